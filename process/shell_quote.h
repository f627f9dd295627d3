// A word as a POSIX shell reads it back unchanged: for the command lines that sxcoll
// prints and records (sft's runs, tune's trials), to be pasted into a shell.
#pragma once

#include <string>

namespace sxcoll::process {

// The word itself when it holds only characters no shell treats specially, else the
// word in single quotes (a quote inside written as '\'').
std::string shell_quote(const std::string& word);

}  // namespace sxcoll::process
