#include "lib/delta/wire.h"

namespace ferry::delta {

void WireWriter::Varint(uint64_t value) {
  while (value >= 0x80) {
    bytes_.push_back(static_cast<uint8_t>(value | 0x80));
    value >>= 7;
  }
  bytes_.push_back(static_cast<uint8_t>(value));
}

void WireWriter::ShortString(std::string_view text) {
  U16(static_cast<uint16_t>(text.size()));
  Bytes(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

uint64_t WireReader::Fixed(size_t width) {
  if (!ok_ || remaining() < width) {
    ok_ = false;
    return 0;
  }
  const uint64_t value = LoadLittleEndian(data_.data() + offset_, width);
  offset_ += width;
  return value;
}

uint64_t WireReader::Varint() {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const uint8_t byte = U8();
    if (!ok_) return 0;
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  ok_ = false;  // more than ten bytes: not a varint this format writes
  return 0;
}

std::span<const uint8_t> WireReader::Bytes(uint64_t length) {
  if (!ok_ || remaining() < length) {
    ok_ = false;
    return {};
  }
  std::span<const uint8_t> bytes = data_.subspan(offset_, length);
  offset_ += length;
  return bytes;
}

std::string WireReader::ShortString() {
  const uint16_t length = U16();
  std::span<const uint8_t> bytes = Bytes(length);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace ferry::delta
