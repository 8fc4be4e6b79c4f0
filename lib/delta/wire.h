// Little-endian integers and byte strings, as the delta format lays them out.
// WireWriter appends to a growable buffer. WireReader walks a borrowed span and
// never reads past its end: every read checks the bytes left first, and the
// first failed read leaves the reader failed, so a parser can read a whole
// record and look at ok() once. Reads of a failed reader return zeros.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::delta {

inline void StoreLittleEndian(uint8_t* out, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

inline uint64_t LoadLittleEndian(const uint8_t* in, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value |= static_cast<uint64_t>(in[i]) << (8 * i);
  return value;
}

class WireWriter {
 public:
  void U8(uint8_t value) { bytes_.push_back(value); }
  void U16(uint16_t value) { Fixed(value, 2); }
  void U32(uint32_t value) { Fixed(value, 4); }
  void U64(uint64_t value) { Fixed(value, 8); }
  // LEB128: 7 bits a byte, low bits first; small numbers take one byte.
  void Varint(uint64_t value);
  void Bytes(std::span<const uint8_t> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
  }
  // A u16 length, then the bytes (names are short).
  void ShortString(std::string_view text);

  size_t size() const { return bytes_.size(); }
  std::vector<uint8_t>& bytes() { return bytes_; }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  void Fixed(uint64_t value, size_t width) {
    const size_t at = bytes_.size();
    bytes_.resize(at + width);
    StoreLittleEndian(bytes_.data() + at, value, width);
  }
  std::vector<uint8_t> bytes_;
};

class WireReader {
 public:
  explicit WireReader(std::span<const uint8_t> data) : data_(data) {}

  uint8_t U8() { return static_cast<uint8_t>(Fixed(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Fixed(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Fixed(4)); }
  uint64_t U64() { return Fixed(8); }
  uint64_t Varint();
  // The next `length` bytes, in place; empty (and failed) when fewer are left.
  std::span<const uint8_t> Bytes(uint64_t length);
  std::string ShortString();

  bool ok() const { return ok_; }
  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }
  // The bytes read since `start` (an earlier offset()).
  std::span<const uint8_t> ReadSince(size_t start) const {
    return data_.subspan(start, offset_ - start);
  }
  // Marks the reader failed, for a caller that found a value out of range.
  void Fail() { ok_ = false; }

 private:
  uint64_t Fixed(size_t width);
  std::span<const uint8_t> data_;
  size_t offset_ = 0;
  bool ok_ = true;
};

}  // namespace ferry::delta
