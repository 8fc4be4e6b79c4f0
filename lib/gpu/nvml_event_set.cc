#include "lib/gpu/nvml_event_set.h"

#include <utility>

namespace ferry::gpu {

Reading<NvmlEventSet> NvmlEventSet::Create(const Nvml& nvml) {
  if (!nvml.CanWaitForEvents()) return std::optional<NvmlEventSet>();
  Reading<nvml::EventSet> set = nvml.CreateEventSet();
  if (!set.ok()) return set.error();
  if (!set->has_value()) return std::optional<NvmlEventSet>();
  return std::optional<NvmlEventSet>(NvmlEventSet(nvml, **set));
}

NvmlEventSet::NvmlEventSet(NvmlEventSet&& other) noexcept
    : nvml_(other.nvml_), set_(std::exchange(other.set_, nullptr)) {}

NvmlEventSet& NvmlEventSet::operator=(NvmlEventSet&& other) noexcept {
  if (this != &other) {
    if (set_ != nullptr) nvml_->FreeEventSet(set_);
    nvml_ = other.nvml_;
    set_ = std::exchange(other.set_, nullptr);
  }
  return *this;
}

NvmlEventSet::~NvmlEventSet() {
  if (set_ != nullptr) nvml_->FreeEventSet(set_);
}

Result<bool> NvmlEventSet::Register(nvml::Device device, unsigned long long event_types) const {
  Reading<bool> registered = nvml_->RegisterEvents(device, event_types, set_);
  if (!registered.ok()) return registered.error();
  return registered->value_or(false);
}

Result<std::optional<nvml::EventData>> NvmlEventSet::Wait(std::chrono::milliseconds timeout) const {
  return nvml_->WaitForEvent(set_, timeout);
}

}  // namespace ferry::gpu
