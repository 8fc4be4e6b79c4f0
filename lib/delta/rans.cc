#include "lib/delta/rans.h"

#include <algorithm>
#include <bit>

namespace ferry::delta::rans {

FrequencyTable FrequencyTable::FromCounts(std::span<const uint32_t, kAlphabet> counts) {
  FrequencyTable table;
  uint64_t total = 0;
  int present = 0;
  for (uint32_t count : counts) {
    total += count;
    present += count > 0;
  }
  if (present == 1) {
    // A lone symbol would need the whole scale, one more than an entry holds:
    // give a neighbour the smallest share.
    const int only = static_cast<int>(
        std::find_if(counts.begin(), counts.end(), [](uint32_t c) { return c > 0; }) -
        counts.begin());
    table.frequency_[only] = kScale - 1;
    table.frequency_[only == kAlphabet - 1 ? only - 1 : only + 1] = 1;
    table.ComputeStarts();
    return table;
  }
  int64_t sum = 0;
  int largest = 0;
  for (int s = 0; s < kAlphabet; ++s) {
    if (counts[s] == 0) continue;
    const uint64_t scaled = (static_cast<uint64_t>(counts[s]) * kScale + total / 2) / total;
    table.frequency_[s] = static_cast<uint16_t>(std::max<uint64_t>(1, scaled));
    sum += table.frequency_[s];
    if (counts[s] > counts[largest]) largest = s;
  }
  // Rounding leaves the sum a little off; the most frequent symbol absorbs it,
  // where a change of a few units costs the least. If it cannot absorb a
  // deficit alone, the others give up their surplus over 1, largest first.
  int64_t excess = sum - kScale;
  const int64_t from_largest = std::min<int64_t>(excess, table.frequency_[largest] - 1);
  table.frequency_[largest] = static_cast<uint16_t>(table.frequency_[largest] - from_largest);
  excess -= from_largest;
  while (excess > 0) {
    int donor = 0;
    for (int s = 1; s < kAlphabet; ++s) {
      if (table.frequency_[s] > table.frequency_[donor]) donor = s;
    }
    const int64_t take = std::min<int64_t>(excess, table.frequency_[donor] - 1);
    table.frequency_[donor] = static_cast<uint16_t>(table.frequency_[donor] - take);
    excess -= take;
  }
  table.ComputeStarts();
  return table;
}

void FrequencyTable::ComputeStarts() {
  uint32_t start = 0;
  for (int s = 0; s < kAlphabet; ++s) {
    start_[s] = static_cast<uint16_t>(start);
    start += frequency_[s];
  }
}

// Layout: varint n (symbols 0..n-1 follow), then n varint frequencies.
void FrequencyTable::Serialize(WireWriter& out) const {
  int n = kAlphabet;
  while (frequency_[n - 1] == 0) --n;
  out.Varint(static_cast<uint64_t>(n));
  for (int s = 0; s < n; ++s) out.Varint(frequency_[s]);
}

size_t FrequencyTable::SerializedSize() const {
  int n = kAlphabet;
  while (frequency_[n - 1] == 0) --n;
  size_t size = n < 128 ? 1 : 2;
  for (int s = 0; s < n; ++s) size += frequency_[s] < 128 ? 1 : 2;
  return size;
}

FrequencyTable FrequencyTable::Parse(WireReader& in) {
  FrequencyTable table;
  const uint64_t n = in.Varint();
  if (n == 0 || n > kAlphabet) {
    in.Fail();
    return table;
  }
  uint64_t sum = 0;
  for (uint64_t s = 0; s < n; ++s) {
    const uint64_t frequency = in.Varint();
    if (frequency >= kScale) in.Fail();
    if (!in.ok()) return table;
    table.frequency_[s] = static_cast<uint16_t>(frequency);
    sum += frequency;
  }
  if (sum != kScale) in.Fail();
  table.ComputeStarts();
  return table;
}

void FrequencyTable::FillDecodeTable(DecodeTable& table) const {
  for (int s = 0; s < kAlphabet; ++s) {
    table.frequency_start[s] = uint32_t{frequency_[s]} << 16 | start_[s];
    std::fill_n(table.symbol_of_slot.begin() + start_[s], frequency_[s], static_cast<uint8_t>(s));
  }
}

EncodeSymbol::EncodeSymbol(uint32_t frequency, uint32_t start)
    : frequency(frequency), start(start), shift(std::bit_width(frequency - 1)) {
  const uint64_t reciprocal = ((uint64_t{1} << (32 + shift)) + frequency - 1) / frequency;
  reciprocal_low = static_cast<uint32_t>(reciprocal);
  reciprocal_high = static_cast<uint32_t>(reciprocal >> 32);
}

std::span<const uint8_t> Encoder::Finish() {
  for (int lane = kLanes - 1; lane >= 0; --lane) {
    cursor_ -= 4;
    StoreLittleEndian(&buffer_[cursor_], state_[lane], 4);
  }
  return std::span(buffer_).subspan(cursor_);
}

}  // namespace ferry::delta::rans
