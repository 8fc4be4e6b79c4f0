// Feeds arbitrary bytes, as a whole file, to the safetensors parser: it must
// return a layout or an error, never crash, hang or read out of bounds. A
// layout it accepts must keep the parser's promises: tensors inside the data
// section, in offset order, without overlap, sized as shape x dtype says.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "lib/delta/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::Result<ferry::delta::SafetensorsLayout> layout =
      ferry::delta::ParseSafetensors(std::span(data, size));
  if (!layout) return 0;
  uint64_t previous_end = layout->data_start;
  for (const ferry::delta::TensorInfo& tensor : layout->tensors) {
    uint64_t bytes = *ferry::delta::DtypeSize(tensor.dtype);
    for (uint64_t dimension : tensor.shape) bytes *= dimension;
    if (tensor.begin < previous_end || tensor.end > size || tensor.end - tensor.begin != bytes) {
      std::abort();
    }
    previous_end = tensor.end;
  }
  return 0;
}
