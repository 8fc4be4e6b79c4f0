// One writer per model: an exclusive flock on <model>/.lock, held for as long
// as the ModelLock lives. The kernel drops it when its holder dies, even by
// SIGKILL, so a crash never leaves a model locked. A second writer fails at
// once rather than waiting (an agent retries on its next reconcile; a person
// would rather be told than hang); the holder writes its pid into the file so
// that error can name it.
#pragma once

#include "lib/common/file.h"
#include "lib/common/result.h"
#include "lib/store/layout.h"

namespace ferry::store {

class ModelLock {
 public:
  // Fails with kUnavailable if another open file description holds the lock,
  // including one in this same process.
  static Result<ModelLock> Acquire(const ModelLayout& layout);

 private:
  explicit ModelLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

}  // namespace ferry::store
