// Static rANS entropy coding of byte symbols (Duda's asymmetric numeral
// systems, in the word-oriented form of Giesen's ryg_rans).
//
// Invariants:
// - A FrequencyTable's frequencies sum to kScale, every present symbol has at
//   least 1 and none has more than kScale - 1.
// - The coder keeps kLanes interleaved states in [kLower, 2^32); symbol i
//   uses state i % kLanes, so a decoder has that many independent chains to
//   overlap. The encoder runs backwards over the symbols and its output is
//   read forwards: the final states (4 bytes each, state 0 first), then
//   16-bit words, at most one per symbol.
// - Decoding the whole message brings every state back to kLower and the read
//   position exactly to the end of the stream; anything else means the stream
//   is corrupt.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "lib/delta/wire.h"

namespace ferry::delta::rans {

// The hot loops load little-endian words with memcpy.
static_assert(std::endian::native == std::endian::little,
              "the delta codec needs a little-endian host");

inline constexpr int kScaleBits = 12;
inline constexpr uint32_t kScale = 1u << kScaleBits;
inline constexpr uint32_t kLower = 1u << 16;
inline constexpr int kAlphabet = 256;
inline constexpr int kLanes = 4;

// The decoder's view of a FrequencyTable, 5 KiB so that the few tables a
// segment uses stay in the L1 cache.
struct DecodeTable {
  std::array<uint8_t, kScale> symbol_of_slot;
  std::array<uint32_t, kAlphabet> frequency_start;  // frequency << 16 | start
};

class FrequencyTable {
 public:
  // Normalizes symbol counts (at least one non-zero) to frequencies.
  static FrequencyTable FromCounts(std::span<const uint32_t, kAlphabet> counts);
  // Reads what Serialize wrote; fails the reader on a malformed table.
  static FrequencyTable Parse(WireReader& in);
  void Serialize(WireWriter& out) const;
  size_t SerializedSize() const;

  uint32_t frequency(int symbol) const { return frequency_[symbol]; }
  uint32_t start(int symbol) const { return start_[symbol]; }
  void FillDecodeTable(DecodeTable& table) const;

 private:
  void ComputeStarts();
  std::array<uint16_t, kAlphabet> frequency_{};
  std::array<uint16_t, kAlphabet> start_{};
};

// How the encoder codes one symbol of a table. The division of the state by
// the frequency f becomes a multiplication by r = ceil(2^(32 + b) / f) with
// b = ceil(log2 f), a 33-bit number kept as its low 32 bits and its top bit;
// floor(x * r / 2^(32 + b)) equals floor(x / f) for every 32-bit x (the
// rounding error stays below 1/f).
struct EncodeSymbol {
  EncodeSymbol() = default;
  EncodeSymbol(uint32_t frequency, uint32_t start);
  uint32_t frequency = 0;
  uint32_t start = 0;
  uint32_t reciprocal_low = 0;
  uint32_t reciprocal_high = 0;  // 0 or 1
  uint32_t shift = 0;            // b
};

class Encoder {
 public:
  // Codes up to `max_symbols` symbols into `buffer` (resized to fit).
  Encoder(std::vector<uint8_t>& buffer, size_t max_symbols) : buffer_(buffer) {
    buffer_.resize(2 * max_symbols + 4 * kLanes);
    cursor_ = buffer_.size();
    std::fill(std::begin(state_), std::end(state_), kLower);
  }
  // Symbols go in last to first; `lane` is the symbol's index % kLanes.
  void Put(int lane, const EncodeSymbol& symbol) {
    uint32_t x = state_[lane];
    // Branch-free, as in DecodeSymbol: the word is always stored below the
    // cursor, and kept only when it is due (the buffer has room for the
    // extra store).
    const uint32_t emit = x >= (kLower >> kScaleBits << 16) * symbol.frequency;
    StoreLittleEndian(&buffer_[cursor_ - 2], x & 0xffff, 2);
    cursor_ -= 2 * emit;
    x >>= 16 * emit;
    // (x / f) * kScale + x % f + start, without dividing.
    const uint64_t scaled = (uint64_t{x} * symbol.reciprocal_low >> 32) +
                            (symbol.reciprocal_high != 0 ? uint64_t{x} : 0);
    const uint32_t quotient = static_cast<uint32_t>(scaled >> symbol.shift);
    state_[lane] = x + symbol.start + quotient * (kScale - symbol.frequency);
  }
  // The finished stream, inside the buffer.
  std::span<const uint8_t> Finish();

 private:
  std::vector<uint8_t>& buffer_;
  size_t cursor_;
  uint32_t state_[kLanes];
};

// Decodes one symbol with `state` and the decode table of its context, reading
// at most one 16-bit word at `in` (the caller keeps at least 2 bytes readable).
inline uint32_t DecodeSymbol(uint32_t& state, const DecodeTable& table, const uint8_t*& in) {
  const uint32_t slot = state & (kScale - 1);
  const uint32_t symbol = table.symbol_of_slot[slot];
  const uint32_t entry = table.frequency_start[symbol];
  const uint32_t x = (entry >> 16) * (state >> kScaleBits) + slot - (entry & 0xffff);
  // Branch-free: whether a word is due is close to a coin toss, and
  // compilers turn a conditional select here into a mispredicted branch.
  const uint32_t refill = x < kLower;
  uint16_t word;
  std::memcpy(&word, in, 2);
  state = (x << (refill * 16)) | (word & (0u - refill));
  in += 2 * refill;
  return symbol;
}

}  // namespace ferry::delta::rans
