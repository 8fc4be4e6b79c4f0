#include "ctl/kubectl_table.h"

#include <algorithm>

namespace ferry::ctl {
namespace {

constexpr size_t kGap = 3;

size_t DisplayWidth(std::string_view text) {
  // Continuation bytes (10xxxxxx) belong to the code point before them.
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

std::string FormatTable(const std::vector<TableRow>& rows, std::string_view indent) {
  std::vector<size_t> widths;
  for (const TableRow& row : rows) {
    if (row.size() > widths.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  std::string out;
  for (const TableRow& row : rows) {
    std::string line(indent);
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - DisplayWidth(row[i]) + kGap, ' ');
    }
    while (line.size() > indent.size() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace ferry::ctl
