// Text tables as kubectl prints them: columns left-aligned, three spaces
// apart, the last column unpadded, so no line ends in blanks. Widths count
// UTF-8 code points rather than bytes, so a message with non-ASCII text does
// not push the columns after it out of line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferry::ctl {

using TableRow = std::vector<std::string>;

// Every row, each line prefixed by `indent` and ended by '\n'. Rows may have
// fewer cells than others; the missing ones are empty.
std::string FormatTable(const std::vector<TableRow>& rows, std::string_view indent = "");

}  // namespace ferry::ctl
