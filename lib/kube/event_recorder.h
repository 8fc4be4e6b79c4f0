// Events about objects, as reconcilers emit them: fire and forget. Record
// never blocks and never fails a reconcile; a recorder that cannot deliver
// counts the loss instead. The cluster implementation (event_sink.h) sends
// from a thread of its own and folds repeats of one event into a series, as
// client-go's recorder does, so a reconcile that fails the same way every
// minute leaves one Event with a growing count, not thousands. Reconciler
// unit tests use tests/support/fake_event_recorder.h, which keeps every call.
//
// Implementations are thread-safe: several workers record at once.
#pragma once

#include <string>

#include "lib/kube/object.h"

namespace ferry::kube {

enum class EventType { kNormal, kWarning };

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // An event regarding `object` (which must carry apiVersion, kind and
  // metadata): `reason` is CamelCase ("Promoted"), `action` what was done
  // ("Promote"), `note` the human sentence.
  virtual void Record(const Json& object, EventType type, const std::string& reason,
                      const std::string& action, const std::string& note) = 0;
};

}  // namespace ferry::kube
