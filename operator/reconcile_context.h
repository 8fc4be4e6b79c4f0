// What a reconciler works with, handed in rather than captured, after
// controller-runtime: the informers' caches to read, a writer, an event
// recorder and a clock. Production wires the Manager's caches, the Client, the
// cluster event recorder and the system clock; unit tests wire the fake
// cluster, a fake recorder and a fake clock, and no test sleeps.
#pragma once

#include <spdlog/logger.h>

#include <memory>

#include "lib/common/clock.h"
#include "lib/kube/caches.h"
#include "lib/kube/event_recorder.h"
#include "lib/kube/object_writer.h"

namespace ferry::operator_ {

struct ReconcileContext {
  const kube::Caches& caches;
  kube::ObjectWriter& writer;
  kube::EventRecorder& events;
  const Clock& clock;
  std::shared_ptr<spdlog::logger> log;  // may be null
};

}  // namespace ferry::operator_
