// sxcoll: validate and tune a RoCE fabric, and measure what it is worth to training.
#include <iostream>

#include <CLI/CLI.hpp>

#include "app/bench_command.h"
#include "app/sft_command.h"
#include "app/tune_command.h"
#include "transport/error.h"

int main(int argc, char** argv) {
  CLI::App app{"sxcoll: fabric validation (bench), NCCL tuning (tune) and SFT throughput (sft) for GPU clusters"};
  app.set_version_flag("--version", std::string("sxcoll 0.1.0"));
  app.require_subcommand(1);
  sxcoll::app::BenchCommand bench;
  sxcoll::app::add_bench_command(app, bench);
  sxcoll::app::SftCommand sft;
  sxcoll::app::add_sft_command(app, sft);
  sxcoll::app::TuneCommand tune;
  sxcoll::app::add_tune_command(app, tune);
  try {
    app.parse(argc, argv);
    if (bench.command->parsed()) return bench.run();
    if (sft.command->parsed()) return sft.run();
    if (tune.command->parsed()) return tune.run();
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::Success&) {
    return 0;
  } catch (const CLI::Error& e) {
    if (e.get_name() == "CallForVersion") {
      std::cout << e.what() << "\n";
      return 0;
    }
    sxcoll::print_error(e.what());
    return 2;
  } catch (const sxcoll::UsageError& e) {
    sxcoll::print_error(e.what());
    return 2;
  } catch (const std::exception& e) {
    sxcoll::print_error(e.what());
    return 1;
  }
  return 0;
}
