// Loading libnccl at run time, without NCCL: where sxcoll looks, the one line it prints when
// nothing loads, and a fake NCCL built beside this test (fake_nccl.cc) for the rest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "bench/nccl/nccl_library.h"
#include "transport/error.h"

namespace sxcoll::bench {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

// Sets an environment variable for the scope of one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

using Candidates = std::vector<nccl::LibraryCandidate>;

std::string load_error(const Candidates& candidates) {
  try {
    NcclLibrary library(candidates);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "loaded";
}

TEST(NcclLibraryCandidates, NcclHomeThenTheLoadersSearch) {
  auto c = nccl::library_candidates(nullptr, "/opt/nccl");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].file, "/opt/nccl/lib/libnccl.so.2");
  EXPECT_EQ(c[0].source, "NCCL_HOME");
  EXPECT_EQ(c[1].file, "libnccl.so.2");
}

TEST(NcclLibraryCandidates, TheLoadersSearchAlone) {
  for (const char* home : {static_cast<const char*>(nullptr), ""}) {
    auto c = nccl::library_candidates(nullptr, home);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].file, "libnccl.so.2");
  }
}

TEST(NcclLibraryCandidates, AFileNamedByTheUserIsTheOnlyOne) {
  auto c = nccl::library_candidates("/site-packages/nvidia/nccl/lib/libnccl.so.2", "/opt/nccl");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].file, "/site-packages/nvidia/nccl/lib/libnccl.so.2");
  EXPECT_EQ(c[0].source, "SXCOLL_NCCL_LIBRARY");
}

TEST(NcclLibrary, AMissingFileGivesOneLineNamingItAndTheFix) {
  ScopedEnv env("SXCOLL_NCCL_LIBRARY", "/nonexistent");
  try {
    NcclLibrary library;
    FAIL() << "loaded /nonexistent";
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_THAT(message, HasSubstr("/nonexistent: cannot open shared object file"));
    EXPECT_THAT(message, HasSubstr("(SXCOLL_NCCL_LIBRARY)"));
    EXPECT_THAT(message, HasSubstr("set SXCOLL_NCCL_LIBRARY to the libnccl.so.2 file, or NCCL_HOME"));
    EXPECT_THAT(message, Not(HasSubstr("\n")));
  }
}

TEST(NcclLibrary, EveryCandidateTriedIsNamed) {
  const std::string message = load_error({{"/nonexistent/lib/libnccl.so.2", "NCCL_HOME"},
                                          {"libsxcoll-no-such-nccl.so.2", "the loader's search path"}});
  EXPECT_THAT(message, HasSubstr("/nonexistent/lib/libnccl.so.2: cannot open shared object file"));
  EXPECT_THAT(message, HasSubstr("(NCCL_HOME)"));
  EXPECT_THAT(message, HasSubstr("libsxcoll-no-such-nccl.so.2: cannot open shared object file"));
  EXPECT_THAT(message, HasSubstr("(the loader's search path)"));
}

TEST(NcclLibrary, LoadsAndNamesTheVersion) {
  ScopedEnv env("SXCOLL_NCCL_LIBRARY", SXCOLL_FAKE_NCCL);
  NcclLibrary library;
  EXPECT_EQ(library.version_code(), 22809);
  EXPECT_EQ(library.version(), "2.28.9");
  EXPECT_THAT(library.path(), EndsWith("libsxcoll_fake_nccl.so"));
  int version = 0;
  EXPECT_EQ(library.api().ncclGetVersion(&version), nccl::ncclSuccess);
  EXPECT_EQ(version, 22809);
}

TEST(NcclLibrary, AnErrorCarriesNcclsLastMessage) {
  NcclLibrary library(Candidates{{SXCOLL_FAKE_NCCL, "test"}});
  EXPECT_EQ(library.error_text(nccl::ncclSystemError),
            "unhandled system error (run with NCCL_DEBUG=INFO for details); NCCL's last error: "
            "socketStartConnect: Connect to 10.0.0.2<43221> failed : Connection refused");
}

TEST(NcclLibrary, BeforeNccl213ThereIsNoLastMessage) {
  NcclLibrary library(Candidates{{SXCOLL_FAKE_NCCL_2_12, "test"}});
  EXPECT_EQ(library.version(), "2.12.12");
  EXPECT_EQ(library.api().ncclGetLastError, nullptr);
  EXPECT_EQ(library.error_text(nccl::ncclSystemError), "unhandled system error (run with NCCL_DEBUG=INFO for details)");
}

TEST(NcclLibrary, AMissingEntryPointIsNamed) {
  const std::string message = load_error({{SXCOLL_FAKE_NCCL_NO_ABORT, "test"}});
  EXPECT_THAT(message, HasSubstr("has no ncclCommAbort"));
  EXPECT_THAT(message, HasSubstr("NCCL 2.4 or newer"));
}

}  // namespace
}  // namespace sxcoll::bench
