// Feeds arbitrary bytes to what reads the API server's answers: a watch
// stream's line parser, the Status-to-Error mapping, and the object helpers
// controllers run on what arrives (metadata, owner references, conditions,
// the cache and its indexes). Each must return a value or an error, never
// crash or throw, whatever shape the JSON has.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lib/common/utc_time.h"
#include "lib/kube/api_error.h"
#include "lib/kube/store.h"
#include "lib/kube/watch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::kube;
  const std::string text(reinterpret_cast<const char*>(data), size);

  const ferry::Error error = ApiError({"GET", "/api/v1/pods", "", ""}, {409, text, "", {}});
  if (error.message.empty()) __builtin_trap();

  ferry::Result<WatchEvent> event = ParseWatchFrame(text, types::Pods());
  if (!event.ok()) return 0;
  Json& object = event->object;
  (void)ObjectKey(object);
  (void)Labels(object);
  (void)ControllerKeyOf(object, "ReplicaSet");
  (void)ferry::ParseTime(StringField(ObjectField(object, "metadata"), "creationTimestamp"));
  Json status = ObjectField(object, "status");
  (void)FindCondition(status, "Ready");
  SetCondition(status, {"Ready", "True", "Fuzzed", "", 0});
  if (!FindCondition(status, "Ready")) __builtin_trap();  // just set

  Store store;
  store.AddIndex("node", IndexByField("/spec/nodeName"));
  store.AddIndex("app", IndexByLabel("app"));
  store.Upsert(std::make_shared<const Json>(object));
  (void)store.ByIndex("node", "n");
  store.Replace({}, [](const ObjectPtr&, const ObjectPtr&) {});
  if (store.Size() != 0) __builtin_trap();
  return 0;
}
