// The informer cache: objects by key, secondary indexes that follow updates,
// Replace reporting exactly what changed, and readers running beside the writer.
#include "lib/kube/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace ferry::kube {
namespace {

ObjectPtr MakePod(const std::string& ns, const std::string& name, const std::string& version,
                  const std::string& app = "", const std::string& node = "") {
  Json pod = {{"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", version}}}};
  if (!app.empty()) pod["metadata"]["labels"]["app"] = app;
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  return std::make_shared<const Json>(std::move(pod));
}

// The keys of `objects`, sorted, for comparisons that should not depend on order.
std::vector<std::string> KeysOf(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> keys;
  for (const ObjectPtr& object : objects) keys.push_back(ObjectKey(*object));
  std::sort(keys.begin(), keys.end());
  return keys;
}

using Keys = std::vector<std::string>;

TEST(Store, UpsertGetAndRemove) {
  Store store;
  EXPECT_EQ(store.Get("shop/a"), nullptr);
  EXPECT_EQ(store.Upsert(MakePod("shop", "a", "1")), nullptr);  // nothing replaced
  const ObjectPtr second = MakePod("shop", "a", "2");
  const ObjectPtr replaced = store.Upsert(second);
  ASSERT_NE(replaced, nullptr);
  EXPECT_EQ(ResourceVersionOf(*replaced), "1");
  EXPECT_EQ(store.Get("shop/a"), second);  // the same shared object, not a copy
  EXPECT_EQ(store.Size(), 1u);

  EXPECT_EQ(store.Remove("shop/missing"), nullptr);
  EXPECT_EQ(store.Remove("shop/a"), second);
  EXPECT_EQ(store.Get("shop/a"), nullptr);
  EXPECT_EQ(store.Size(), 0u);
}

TEST(Store, ListAndKeysHoldEveryObjectOnce) {
  Store store;
  store.Upsert(MakePod("b", "x", "1"));
  store.Upsert(MakePod("a", "y", "1"));
  store.Upsert(MakePod("", "cluster-scoped", "1"));
  store.Upsert(MakePod("a", "y", "2"));
  EXPECT_EQ(store.Keys(), (Keys{"a/y", "b/x", "cluster-scoped"}));
  EXPECT_EQ(KeysOf(store.List()), (Keys{"a/y", "b/x", "cluster-scoped"}));
  EXPECT_EQ(ResourceVersionOf(*store.Get("a/y")), "2");
}

TEST(Store, AReaderKeepsTheObjectItGotWhileTheStoreMovesOn) {
  Store store;
  store.Upsert(MakePod("shop", "a", "1"));
  const ObjectPtr held = store.Get("shop/a");
  store.Upsert(MakePod("shop", "a", "2"));
  store.Remove("shop/a");
  EXPECT_EQ(ResourceVersionOf(*held), "1");
}

TEST(StoreIndex, FilesObjectsByLabelValue) {
  Store store;
  store.AddIndex("app", IndexByLabel("app"));
  store.Upsert(MakePod("shop", "web-0", "1", "web"));
  store.Upsert(MakePod("shop", "web-1", "1", "web"));
  store.Upsert(MakePod("shop", "db-0", "1", "db"));
  store.Upsert(MakePod("shop", "unlabelled", "1"));
  EXPECT_EQ(KeysOf(store.ByIndex("app", "web")), (Keys{"shop/web-0", "shop/web-1"}));
  EXPECT_EQ(KeysOf(store.ByIndex("app", "db")), (Keys{"shop/db-0"}));
  EXPECT_TRUE(store.ByIndex("app", "").empty());  // no label is not an empty label
  EXPECT_TRUE(store.ByIndex("app", "cache").empty());
}

TEST(StoreIndex, FilesObjectsByAStringField) {
  Store store;
  store.AddIndex("node", IndexByField("/spec/nodeName"));
  store.Upsert(MakePod("shop", "a", "1", "", "node-1"));
  store.Upsert(MakePod("shop", "b", "1", "", "node-2"));
  store.Upsert(MakePod("shop", "c", "1", "", "node-1"));
  store.Upsert(MakePod("shop", "unscheduled", "1"));
  Json odd = {{"metadata", {{"namespace", "shop"}, {"name", "odd"}}}, {"spec", {{"nodeName", 5}}}};
  store.Upsert(std::make_shared<const Json>(std::move(odd)));
  EXPECT_EQ(KeysOf(store.ByIndex("node", "node-1")), (Keys{"shop/a", "shop/c"}));
  EXPECT_EQ(KeysOf(store.ByIndex("node", "node-2")), (Keys{"shop/b"}));
  EXPECT_TRUE(store.ByIndex("node", "5").empty());  // not a string: not filed
  EXPECT_EQ(store.Size(), 5u);
}

TEST(StoreIndex, AnUpdateMovesTheObjectBetweenIndexValues) {
  Store store;
  store.AddIndex("app", IndexByLabel("app"));
  store.AddIndex("node", IndexByField("/spec/nodeName"));
  store.Upsert(MakePod("shop", "a", "1", "web", "node-1"));
  store.Upsert(MakePod("shop", "a", "2", "db", "node-2"));
  EXPECT_TRUE(store.ByIndex("app", "web").empty());
  EXPECT_TRUE(store.ByIndex("node", "node-1").empty());
  const std::vector<ObjectPtr> db = store.ByIndex("app", "db");
  ASSERT_EQ(db.size(), 1u);
  EXPECT_EQ(ResourceVersionOf(*db[0]), "2");  // the new object, not the old one
  EXPECT_EQ(KeysOf(store.ByIndex("node", "node-2")), (Keys{"shop/a"}));

  // Losing the label takes it out of the index altogether.
  store.Upsert(MakePod("shop", "a", "3", "", "node-2"));
  EXPECT_TRUE(store.ByIndex("app", "db").empty());
}

TEST(StoreIndex, RemoveUnfilesTheObject) {
  Store store;
  store.AddIndex("app", IndexByLabel("app"));
  store.Upsert(MakePod("shop", "a", "1", "web"));
  store.Upsert(MakePod("shop", "b", "1", "web"));
  store.Remove("shop/a");
  EXPECT_EQ(KeysOf(store.ByIndex("app", "web")), (Keys{"shop/b"}));
}

TEST(StoreIndex, AnUnknownIndexIsEmpty) {
  Store store;
  store.Upsert(MakePod("shop", "a", "1", "web"));
  EXPECT_TRUE(store.ByIndex("app", "web").empty());
}

TEST(StoreIndex, AnIndexMayFileOneObjectUnderSeveralValues) {
  Store store;
  store.AddIndex("label-keys", [](const Json& object) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : Labels(object)) keys.push_back(key);
    return keys;
  });
  Json pod = {{"metadata", {{"name", "p"}, {"labels", {{"a", "1"}, {"b", "2"}}}}}};
  store.Upsert(std::make_shared<const Json>(pod));
  EXPECT_EQ(store.ByIndex("label-keys", "a").size(), 1u);
  EXPECT_EQ(store.ByIndex("label-keys", "b").size(), 1u);
  pod["metadata"]["labels"].erase("a");
  store.Upsert(std::make_shared<const Json>(pod));
  EXPECT_TRUE(store.ByIndex("label-keys", "a").empty());
  EXPECT_EQ(store.ByIndex("label-keys", "b").size(), 1u);
}

// One reported change, as "key: old version -> new version" ("-" for none).
std::string Describe(const ObjectPtr& old_object, const ObjectPtr& new_object) {
  const ObjectPtr& any = old_object ? old_object : new_object;
  return ObjectKey(*any) + ": " + (old_object ? ResourceVersionOf(*old_object) : "-") + " -> " +
         (new_object ? ResourceVersionOf(*new_object) : "-");
}

TEST(StoreReplace, ReportsExactlyTheAddsUpdatesAndDeletes) {
  Store store;
  store.Upsert(MakePod("shop", "kept", "1"));
  store.Upsert(MakePod("shop", "updated", "1"));
  store.Upsert(MakePod("shop", "deleted", "1"));
  std::vector<std::string> changes;
  store.Replace({MakePod("shop", "kept", "1"), MakePod("shop", "updated", "2"),
                 MakePod("shop", "added", "1")},
                [&](const ObjectPtr& old_object, const ObjectPtr& new_object) {
                  changes.push_back(Describe(old_object, new_object));
                });
  std::sort(changes.begin(), changes.end());
  EXPECT_EQ(changes, (Keys{"shop/added: - -> 1", "shop/deleted: 1 -> -", "shop/updated: 1 -> 2"}));
  EXPECT_EQ(store.Keys(), (Keys{"shop/added", "shop/kept", "shop/updated"}));
  EXPECT_EQ(ResourceVersionOf(*store.Get("shop/updated")), "2");
}

TEST(StoreReplace, ReplacingWithTheSameVersionsReportsNothing) {
  Store store;
  store.Upsert(MakePod("shop", "a", "1"));
  store.Upsert(MakePod("shop", "b", "7"));
  int changes = 0;
  store.Replace({MakePod("shop", "a", "1"), MakePod("shop", "b", "7")},
                [&](const ObjectPtr&, const ObjectPtr&) { ++changes; });
  EXPECT_EQ(changes, 0);
  EXPECT_EQ(store.Size(), 2u);
}

TEST(StoreReplace, RebuildsTheIndexes) {
  Store store;
  store.AddIndex("app", IndexByLabel("app"));
  store.Upsert(MakePod("shop", "a", "1", "web"));
  store.Upsert(MakePod("shop", "b", "1", "web"));
  store.Replace({MakePod("shop", "b", "2", "db"), MakePod("shop", "c", "1", "web")},
                [](const ObjectPtr&, const ObjectPtr&) {});
  EXPECT_EQ(KeysOf(store.ByIndex("app", "web")), (Keys{"shop/c"}));
  EXPECT_EQ(KeysOf(store.ByIndex("app", "db")), (Keys{"shop/b"}));
}

TEST(StoreReplace, HandlersMayReadTheStoreAndSeeTheNewState) {
  Store store;
  store.Upsert(MakePod("shop", "a", "1"));
  std::vector<std::string> seen;
  store.Replace({MakePod("shop", "a", "2"), MakePod("shop", "b", "1")},
                [&](const ObjectPtr&, const ObjectPtr& new_object) {
                  // Would deadlock if the handler ran under the writer's lock.
                  const ObjectPtr current = store.Get(ObjectKey(*new_object));
                  seen.push_back(current ? ResourceVersionOf(*current) : "missing");
                  EXPECT_EQ(store.Size(), 2u);
                });
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (Keys{"1", "2"}));
}

// Smoke test for data races (meaningful under ThreadSanitizer or ASan): readers
// check, while one writer keeps re-labelling objects, that whatever an index
// hands out really carries that label value.
TEST(StoreConcurrency, ReadersSeeConsistentIndexesWhileAWriterUpserts) {
  Store store;
  store.AddIndex("app", IndexByLabel("app"));
  constexpr int kObjects = 50;
  constexpr int kRounds = 40;
  const std::vector<std::string> apps = {"web", "db", "cache"};
  std::atomic<bool> writing{true};
  std::atomic<int> inconsistencies{0};
  std::atomic<int64_t> reads{0};

  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (writing) {
        for (const std::string& app : apps) {
          for (const ObjectPtr& object : store.ByIndex("app", app)) {
            if (Labels(*object).at("app") != app) ++inconsistencies;
          }
        }
        const std::vector<ObjectPtr> all = store.List();
        if (all.size() > static_cast<size_t>(kObjects)) ++inconsistencies;
        for (const std::string& key : store.Keys()) {
          if (store.Get(key) == nullptr) ++inconsistencies;  // keys are never removed here
        }
        ++reads;
      }
    });
  }
  // Start writing only once the readers are reading.
  while (reads < 3) std::this_thread::yield();
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kObjects; ++i) {
      store.Upsert(MakePod("shop", "pod-" + std::to_string(i), std::to_string(round),
                           apps[(i + round) % apps.size()]));
    }
  }
  writing = false;
  for (std::thread& reader : readers) reader.join();

  EXPECT_EQ(inconsistencies, 0);
  EXPECT_GT(reads, 0);
  size_t filed = 0;
  for (const std::string& app : apps) filed += store.ByIndex("app", app).size();
  EXPECT_EQ(filed, static_cast<size_t>(kObjects));  // each object under exactly one value
}

// What Derived made of an object: the resourceVersion it saw.
struct Made {
  std::string version;
};

TEST(Store, DerivedIsMadeOncePerStoredObject) {
  Store store;
  const ObjectPtr first = MakePod("shop", "a", "1");
  store.Upsert(first);
  int runs = 0;
  const std::function<Made(const Json&)> derive = [&](const Json& object) {
    ++runs;
    return Made{ResourceVersionOf(object)};
  };
  const auto a = store.Derived<Made>("made", first, derive);
  const auto b = store.Derived<Made>("made", store.Get("shop/a"), derive);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(a, b);  // shared, not copied
  EXPECT_EQ(a->version, "1");
  // Another slot is another value.
  store.Derived<Made>("other", first, derive);
  EXPECT_EQ(runs, 2);
}

TEST(Store, DerivedFollowsUpdatesAndNeverServesAnOlderObject) {
  Store store;
  const ObjectPtr first = MakePod("shop", "a", "1");
  store.Upsert(first);
  int runs = 0;
  const std::function<Made(const Json&)> derive = [&](const Json& object) {
    ++runs;
    return Made{ResourceVersionOf(object)};
  };
  EXPECT_EQ(store.Derived<Made>("made", first, derive)->version, "1");
  const ObjectPtr second = MakePod("shop", "a", "2");
  store.Upsert(second);
  EXPECT_EQ(store.Derived<Made>("made", second, derive)->version, "2");
  EXPECT_EQ(runs, 2);
  // A reader still holding the replaced object gets its own value, made
  // afresh and not kept (the store holds `second`).
  EXPECT_EQ(store.Derived<Made>("made", first, derive)->version, "1");
  EXPECT_EQ(store.Derived<Made>("made", second, derive)->version, "2");
  EXPECT_EQ(runs, 3);

  // Replace with an unchanged resourceVersion keeps nothing stale either.
  store.Replace({MakePod("shop", "a", "3")}, [](const ObjectPtr&, const ObjectPtr&) {});
  EXPECT_EQ(store.Derived<Made>("made", store.Get("shop/a"), derive)->version, "3");

  // Removed and re-added under the same key: made again.
  store.Remove("shop/a");
  const ObjectPtr again = MakePod("shop", "a", "4");
  store.Upsert(again);
  EXPECT_EQ(store.Derived<Made>("made", again, derive)->version, "4");
}

TEST(Store, DerivedBesideTheWriterIsAlwaysOfTheObjectAsked) {
  Store store;
  constexpr int kRounds = 300;
  store.Upsert(MakePod("shop", "a", "0"));
  std::atomic<bool> writing{true};
  std::atomic<int> mismatches{0};
  const std::function<Made(const Json&)> derive = [](const Json& object) {
    return Made{ResourceVersionOf(object)};
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (writing) {
        const ObjectPtr object = store.Get("shop/a");
        if (store.Derived<Made>("made", object, derive)->version != ResourceVersionOf(*object)) {
          ++mismatches;
        }
      }
    });
  }
  for (int round = 1; round <= kRounds; ++round) {
    store.Upsert(MakePod("shop", "a", std::to_string(round)));
  }
  writing = false;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace ferry::kube
