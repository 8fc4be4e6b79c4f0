// Finishing what an interrupted writer left behind, for one model whose lock
// the caller holds. The journal is rolled forward before the sweep runs,
// because the sweep would take the version it names for garbage.
#pragma once

#include "lib/common/result.h"
#include "lib/store/journal.h"
#include "lib/store/layout.h"

namespace ferry::store {

// Completes the change `journal` describes. Every step is idempotent, so a
// crash during roll-forward is finished by the next one:
//  1. versions/<v> missing: rename staging/<v> there (it was verified, sealed
//     and synced before the journal was written). If neither exists the folder
//     was deleted by hand; the journal is dropped and `current` stays.
//  2. versions/<v> made read-only and synced.
//  3. `current` switched to it.
//  4. state.json: <v> moved to the front, trimmed to journal.keep.
//  5. The journal removed.
Status RollForward(const ModelLayout& layout, const Journal& journal);

// Deletes what nothing needs: versions that are neither current nor in
// state.json (moved into trash/ first, so versions/ never holds a half-deleted
// tree), meta of versions that are gone, trash/, and temporaries left by a
// killed process. Staging folders stay: they are resumable work.
Status Sweep(const ModelLayout& layout);

// Rolls a pending journal forward, if there is one, then sweeps.
Status Recover(const ModelLayout& layout);

}  // namespace ferry::store
