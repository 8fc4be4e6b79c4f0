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
//  3. `current` switched to it (not for op "hold").
//  4. state.json: <v> moved to the front, trimmed to journal.keep (for "hold":
//     <v> listed as staged, `current` and the activations left as they are).
//  5. The journal removed.
Status RollForward(const ModelLayout& layout, const Journal& journal);

// Deletes what nothing needs: versions that are neither current nor in
// state.json (moved into trash/ first, so versions/ never holds a half-deleted
// tree), meta of versions that are gone, trash/, and temporaries left by a
// killed process, caches of versions no longer staged. Staging folders stay:
// they are resumable work. Nothing found in these folders is followed if it
// is a symlink: it is unlinked as the stray name it is.
Status Sweep(const ModelLayout& layout);

// Moves versions/<version> into trash/ (durably). Anything under that name
// that is not a real folder (a stray symlink) is unlinked, never followed.
Status MoveToTrash(const ModelLayout& layout, const std::string& version);

// Whether the model's own folders (versions/, meta/, staging/) are real
// folders or absent: the sweep lists and deletes inside them, so a symlink in
// place of one would aim it outside the store. kCorrupt naming the path if not.
Status CheckOwnFolders(const ModelLayout& layout);

// Rolls a pending journal forward, if there is one, then sweeps.
Status Recover(const ModelLayout& layout);

}  // namespace ferry::store
