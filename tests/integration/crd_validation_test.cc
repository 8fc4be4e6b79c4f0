// The API server, not the operator, refuses bad ModelVersions and ModelNodes:
// every bound and CEL rule in crds/ is tried here against the real API server
// of the `cluster` fixture. Each case starts from a valid object, changes one
// thing, and checks that kubectl fails, that its message names the field and
// the rule, and that nothing was stored. The Accepts table holds the values on
// the right side of each bound, so a bound that is off by one fails one table
// or the other; the defaults are read back as the API server stored them.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/kubectl_namespace_test.h"

namespace ferry::testing {
namespace {

using nlohmann::json;
using Mutation = std::function<void(json&)>;

// Everything optional is set, so that each case can break one field of it.
json ValidModelVersion() {
  return json::parse(R"({
  "apiVersion": "ferry.dev/v1alpha1",
  "kind": "ModelVersion",
  "metadata": {"name": "coder-1-1-0"},
  "spec": {
    "model": "coder-6.7b",
    "version": "1.1.0",
    "source": {
      "repository": "http://ferry-repo.ml.svc:8080",
      "manifestDigest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "publicKeySecretRef": {"name": "ferry-signing-key", "key": "public.key"},
      "deltaFrom": ["1.0.0"]
    },
    "adapters": [{"name": "sql", "path": "adapters/sql"}],
    "nodeSelector": {"ferry.dev/gpu": "true"},
    "staging": {"maxConcurrentNodes": 4, "minReadyNodes": 2},
    "serving": {"deployment": "coder-server", "service": "coder", "route": {"name": "coder"}},
    "strategy": {
      "canary": {
        "capacity": "surge",
        "progressDeadlineSeconds": 600,
        "canaryMetadata": {"labels": {"track": "canary"}, "annotations": {"note": "canary pods"}},
        "steps": [
          {"setWeight": 20},
          {"pause": {}},
          {"pause": {"duration": "10m"}},
          {"analysis": {"webhook": {"url": "http://checks.ml.svc/coder", "timeoutSeconds": 60}}}
        ]
      }
    },
    "rollback": {"onFailure": true, "keepVersions": 2}
  }
})");
}

json ValidModelVersionStatus() {
  return json::parse(R"({
  "phase": "Paused",
  "observedGeneration": 1,
  "currentStep": 1,
  "stepStartTime": "2026-01-01T00:00:00Z",
  "canaryWeight": 20,
  "stableVersion": "1.0.0",
  "promotedTime": "2026-01-01T00:00:00Z",
  "nodes": {"desired": 3, "ready": 3, "failed": 0},
  "conditions": [{"type": "Paused", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z",
                  "reason": "AwaitingPromotion", "message": ""}],
  "history": [{"time": "2026-01-01T00:00:00Z", "phase": "Paused", "step": 1, "weight": 20}],
  "message": "waiting for promote"
})");
}

json ValidModelNode() {
  return json::parse(R"({
  "apiVersion": "ferry.dev/v1alpha1",
  "kind": "ModelNode",
  "metadata": {"name": "kwok-gpu-x"},
  "spec": {
    "models": [{
      "model": "coder-6.7b",
      "active": "1.0.0",
      "versions": [
        {"version": "1.0.0", "source": {"repository": "file:///mnt/bundle"}},
        {"version": "1.1.0",
         "source": {"repository": "http://ferry-repo.ml.svc:8080",
                    "manifestDigest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                    "publicKey": "ferry-ed25519 AAAA", "deltaFrom": ["1.0.0"]},
         "modelVersionRef": {"namespace": "ml", "name": "coder-1-1-0"}}
      ]
    }]
  }
})");
}

json ValidModelNodeStatus() {
  return json::parse(R"({
  "observedGeneration": 1,
  "versions": [{"model": "coder-6.7b", "version": "1.0.0", "state": "Active", "bytes": 10,
                "totalBytes": 10, "downloadedBytes": 10,
                "digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "lastTransitionTime": "2026-01-01T00:00:00Z"},
               {"model": "coder-6.7b", "version": "1.1.0", "state": "Fetching", "bytes": 0,
                "deltaFrom": "1.0.0", "message": "fetching the delta"}],
  "disk": {"capacityBytes": 100, "availableBytes": 50, "storeBytes": 20},
  "totalGPUs": 1,
  "healthyGPUs": 1,
  "gpus": [{"index": 0, "uuid": "GPU-0", "name": "NVIDIA H100 80GB HBM3", "healthy": true,
            "reasons": [], "eccUncorrected": 0, "eccUncorrectedAggregate": 0, "retiredPages": 0,
            "retiredPagesPending": false, "remappedRowsPending": false, "remappingFailed": false,
            "xidCritical": [], "xidApplication": [13], "temperatureC": 40, "powerWatts": 71.5,
            "memoryUsedBytes": 536870912, "memoryTotalBytes": 150754820096, "utilizationPercent": 12,
            "memoryUtilizationPercent": 3, "throttleReasons": ["GpuIdle"]}],
  "heartbeat": "2026-01-01T00:00:00Z",
  "heartbeatSeconds": 10,
  "agentVersion": "0.1.0",
  "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z",
                  "reason": "StoreReady", "message": ""}]
})");
}

// Mutations, by JSON pointer.
Mutation Set(const std::string& pointer, json value) {
  return [pointer, value](json& object) { object[json::json_pointer(pointer)] = value; };
}
Mutation Erase(const std::string& pointer) {
  return [pointer](json& object) {
    const json::json_pointer at(pointer);
    object[at.parent_pointer()].erase(at.back());
  };
}
Mutation Both(Mutation first, Mutation second) {
  return [first, second](json& object) {
    first(object);
    second(object);
  };
}
// The blue-green strategy in place of the canary one.
Mutation BlueGreen(json blue_green) {
  return Set("/spec/strategy", json{{"blueGreen", std::move(blue_green)}});
}
json Entries(int count, size_t value_length = 1) {
  json map = json::object();
  for (int i = 0; i < count; ++i) map["k" + std::to_string(i)] = std::string(value_length, 'v');
  return map;
}
json Versions(int count) {  // distinct SemVer strings 1.0.0 … for lists of versions
  json list = json::array();
  for (int i = 0; i < count; ++i) list.push_back("1.0." + std::to_string(i));
  return list;
}

// What is changed and how it reaches the API server.
enum class Target {
  kModelVersion,        // kubectl apply of a new ModelVersion
  kModelVersionUpdate,  // the valid one applied first, then the changed one
  kModelVersionStatus,  // a valid status patched first, then the changed status
  kModelNode,
  kModelNodeStatus,
};

struct Case {
  const char* name;
  Target target;
  Mutation mutate;
  // For refusals, "<field path>: <message>" as it must appear in kubectl's stderr.
  std::string error;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

std::ostream& operator<<(std::ostream& out, const Case& c) { return out << c.name; }

// A namespace (and a ModelNode name) of the case's own, removed afterwards.
class CrdValidationTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    name_ = std::string("crd-") + GetParam().name;
    std::transform(name_.begin(), name_.end(), name_.begin(),
                   [](unsigned char c) { return std::isalnum(c) ? std::tolower(c) : '-'; });
    ASSERT_LE(name_.size(), 63u) << "case name too long for a namespace";
    Kubectl({"delete", "namespace", name_, "--ignore-not-found", "--wait=true"});
    Kubectl({"delete", "modelnode", name_, "--ignore-not-found", "--wait=true"});
    ProcessResult created = Kubectl({"create", "namespace", name_});
    ASSERT_EQ(created.exit_code, 0) << created.err;
  }
  void TearDown() override {
    Kubectl({"delete", "modelnode", name_, "--ignore-not-found", "--wait=false"});
    Kubectl({"delete", "namespace", name_, "--wait=false"});
  }

  bool IsNode() const {
    return GetParam().target == Target::kModelNode || GetParam().target == Target::kModelNodeStatus;
  }
  std::vector<std::string> Where() const {
    if (IsNode()) return {"modelnode", name_};
    return {"modelversion", "coder-1-1-0", "-n", name_};
  }
  json Base() const {
    json object = IsNode() ? ValidModelNode() : ValidModelVersion();
    if (IsNode()) object["metadata"]["name"] = name_;
    return object;
  }
  ProcessResult Apply(const json& object) {
    std::vector<std::string> args = {"apply", "-f", "-"};
    if (!IsNode()) args.insert(args.end(), {"-n", name_});
    return Kubectl(args, object.dump());
  }
  ProcessResult PatchStatus(const json& status) {
    std::vector<std::string> args = Where();
    args.insert(args.begin(), "patch");
    args.insert(args.end(),
                {"--subresource=status", "--type=merge", "-p", json{{"status", status}}.dump()});
    return Kubectl(args);
  }
  // The stored object, or null when there is none.
  json Stored() {
    std::vector<std::string> args = Where();
    args.insert(args.begin(), "get");
    args.insert(args.end(), {"-o", "json", "--ignore-not-found"});
    ProcessResult got = Kubectl(args);
    EXPECT_EQ(got.exit_code, 0) << got.err;
    return got.out.empty() ? json() : json::parse(got.out);
  }

  // Brings the cluster to the state before the change; returns the object or
  // status that the case changes.
  json Prepare() {
    const Target target = GetParam().target;
    json object = Base();
    if (target == Target::kModelVersion || target == Target::kModelNode) return object;
    ProcessResult applied = Apply(object);
    EXPECT_EQ(applied.exit_code, 0) << applied.err;
    if (target == Target::kModelVersionUpdate) return object;
    json status = IsNode() ? ValidModelNodeStatus() : ValidModelVersionStatus();
    ProcessResult patched = PatchStatus(status);
    EXPECT_EQ(patched.exit_code, 0) << patched.err;
    // Merge patches go through the status; a wrapper keeps pointers like /status/x.
    return json{{"status", status}};
  }
  ProcessResult Change(const json& changed) {
    const Target target = GetParam().target;
    if (target == Target::kModelVersionStatus || target == Target::kModelNodeStatus) {
      return PatchStatus(changed["status"]);
    }
    return Apply(changed);
  }

  std::string name_;
};

using Rejects = CrdValidationTest;
using Accepts = CrdValidationTest;

TEST_P(Rejects, TheChangeWithTheFieldAndTheRule) {
  json before = Prepare();
  ASSERT_FALSE(HasFailure()) << "the valid object must be accepted first";
  const json stored_before = Stored();
  json changed = before;
  GetParam().mutate(changed);
  ASSERT_NE(changed, before) << "the mutation changed nothing";

  ProcessResult result = Change(changed);
  EXPECT_NE(result.exit_code, 0) << result.out;
  EXPECT_NE(result.err.find(GetParam().error), std::string::npos)
      << "expected: " << GetParam().error << "\nstderr: " << result.err;

  const json stored = Stored();
  if (stored_before.is_null()) {
    EXPECT_TRUE(stored.is_null()) << "the refused object was stored: " << stored.dump();
  } else {
    EXPECT_EQ(stored["metadata"]["resourceVersion"], stored_before["metadata"]["resourceVersion"])
        << "the refused change was stored: " << stored.dump();
  }
}

TEST_P(Accepts, TheChange) {
  json before = Prepare();
  ASSERT_FALSE(HasFailure()) << "the valid object must be accepted first";
  json changed = before;
  GetParam().mutate(changed);
  ProcessResult result = Change(changed);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(Stored().is_null());
}

const std::string kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kCanary = "/spec/strategy/canary";
const std::string kStep0 = "/spec/strategy/canary/steps/0";
const std::string kNodeVersion = "/spec/models/0/versions/1";  // the entry with every field

const Case kRefused[] = {
    // spec: required fields and unknown fields
    {"MissingModel", Target::kModelVersion, Erase("/spec/model"), "spec.model: Required value"},
    {"MissingSource", Target::kModelVersion, Erase("/spec/source"), "spec.source: Required value"},
    {"MissingRepository", Target::kModelVersion, Erase("/spec/source/repository"),
     "spec.source.repository: Required value"},
    {"UnknownField", Target::kModelVersion, Set("/spec/replicas", 3),
     R"(strict decoding error: unknown field "spec.replicas")"},
    // spec.model, spec.version
    {"ModelNotADnsName", Target::kModelVersion, Set("/spec/model", "Coder_6.7B"),
     "spec.model: Invalid value: \"Coder_6.7B\": spec.model in body should match"},
    {"ModelEmpty", Target::kModelVersion, Set("/spec/model", ""),
     "spec.model: Invalid value: \"\": spec.model in body should be at least 1 chars long"},
    {"ModelTooLong", Target::kModelVersion, Set("/spec/model", std::string(254, 'a')),
     "spec.model: Too long: may not be more than 253 bytes"},
    {"VersionNotSemVer", Target::kModelVersion, Set("/spec/version", "v1.1.0"),
     "spec.version: Invalid value: \"v1.1.0\": spec.version in body should match"},
    {"VersionTooShort", Target::kModelVersion, Set("/spec/version", "1.1"),
     "spec.version: Invalid value: \"1.1\": spec.version in body should be at least 5 chars long"},
    {"VersionTooLong", Target::kModelVersion, Set("/spec/version", "1.1.0-" + std::string(123, 'a')),
     "spec.version: Too long: may not be more than 128 bytes"},
    {"ModelChanged", Target::kModelVersionUpdate, Set("/spec/model", "other-model"),
     "spec.model: Invalid value: \"other-model\": spec.model is immutable"},
    {"VersionChanged", Target::kModelVersionUpdate, Set("/spec/version", "1.2.0"),
     "spec.version: Invalid value: \"1.2.0\": spec.version is immutable"},
    // spec.source
    {"SourceUnverified", Target::kModelVersion,
     Both(Erase("/spec/source/manifestDigest"), Erase("/spec/source/publicKeySecretRef")),
     "spec.source: Invalid value: spec.source needs manifestDigest, publicKeySecretRef, "
     "or both, so that fetched content is verified"},
    {"ManifestDigestChanged", Target::kModelVersionUpdate,
     Set("/spec/source/manifestDigest", "sha256:" + std::string(64, 'f')),
     "spec.source: Invalid value: spec.source.manifestDigest cannot be changed or "
     "removed once set"},
    {"ManifestDigestRemoved", Target::kModelVersionUpdate, Erase("/spec/source/manifestDigest"),
     "spec.source: Invalid value: spec.source.manifestDigest cannot be changed or "
     "removed once set"},
    {"RepositoryScheme", Target::kModelVersion, Set("/spec/source/repository", "ftp://mirror/repo"),
     "spec.source.repository: Invalid value: \"ftp://mirror/repo\": spec.source.repository in "
     "body should match"},
    {"RepositoryWithSpace", Target::kModelVersion, Set("/spec/source/repository", "http://a b"),
     "spec.source.repository in body should match"},
    {"RepositoryTooLong", Target::kModelVersion,
     Set("/spec/source/repository", "http://" + std::string(2042, 'a')),
     "spec.source.repository: Too long: may not be more than 2048 bytes"},
    {"ManifestDigestNotSha256", Target::kModelVersion,
     Set("/spec/source/manifestDigest", "md5:0123456789abcdef"),
     "spec.source.manifestDigest: Invalid value: \"md5:0123456789abcdef\": "
     "spec.source.manifestDigest in body should match"},
    {"ManifestDigestUpperCase", Target::kModelVersion,
     Set("/spec/source/manifestDigest", "sha256:" + std::string(64, 'A')),
     "spec.source.manifestDigest in body should match '^sha256:[a-f0-9]{64}$'"},
    {"ManifestDigestTooLong", Target::kModelVersion,
     Set("/spec/source/manifestDigest", "sha256:" + std::string(65, 'a')),
     "spec.source.manifestDigest: Too long: may not be more than 71 bytes"},
    {"SecretRefWithoutName", Target::kModelVersion, Erase("/spec/source/publicKeySecretRef/name"),
     "spec.source.publicKeySecretRef.name: Required value"},
    {"SecretRefNameNotDns", Target::kModelVersion,
     Set("/spec/source/publicKeySecretRef/name", "Signing_Key"),
     "spec.source.publicKeySecretRef.name in body should match"},
    {"SecretRefNameEmpty", Target::kModelVersion, Set("/spec/source/publicKeySecretRef/name", ""),
     "spec.source.publicKeySecretRef.name in body should be at least 1 chars long"},
    {"SecretRefKeyWithSlash", Target::kModelVersion,
     Set("/spec/source/publicKeySecretRef/key", "keys/public"),
     "spec.source.publicKeySecretRef.key in body should match '^[-._a-zA-Z0-9]+$'"},
    {"SecretRefKeyEmpty", Target::kModelVersion, Set("/spec/source/publicKeySecretRef/key", ""),
     "spec.source.publicKeySecretRef.key in body should be at least 1 chars long"},
    {"SecretRefKeyTooLong", Target::kModelVersion,
     Set("/spec/source/publicKeySecretRef/key", std::string(254, 'k')),
     "spec.source.publicKeySecretRef.key: Too long: may not be more than 253 bytes"},
    {"DeltaFromItself", Target::kModelVersion, Set("/spec/source/deltaFrom", json::array({"1.0.0", "1.1.0"})),
     "spec: Invalid value: spec.source.deltaFrom must not list spec.version itself"},
    {"DeltaFromNotSemVer", Target::kModelVersion, Set("/spec/source/deltaFrom", json::array({"latest"})),
     "spec.source.deltaFrom[0]: Invalid value: \"latest\": spec.source.deltaFrom[0] in body "
     "should match"},
    {"DeltaFromTwice", Target::kModelVersion, Set("/spec/source/deltaFrom", json::array({"1.0.0", "1.0.0"})),
     "spec.source.deltaFrom[1]: Duplicate value: \"1.0.0\""},
    {"DeltaFromTooMany", Target::kModelVersion, Set("/spec/source/deltaFrom", Versions(17)),
     "spec.source.deltaFrom: Too many: 17: must have at most 16 items"},
    // spec.adapters
    {"AdapterWithoutPath", Target::kModelVersion, Erase("/spec/adapters/0/path"),
     "spec.adapters[0].path: Required value"},
    {"AdapterNameNotDnsLabel", Target::kModelVersion, Set("/spec/adapters/0/name", "sql.v2"),
     "spec.adapters[0].name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'"},
    {"AdapterNameTooLong", Target::kModelVersion, Set("/spec/adapters/0/name", std::string(64, 'a')),
     "spec.adapters[0].name: Too long: may not be more than 63 bytes"},
    {"AdapterPathAbsolute", Target::kModelVersion, Set("/spec/adapters/0/path", "/etc/passwd"),
     "spec.adapters[0].path: Invalid value: \"/etc/passwd\": spec.adapters[0].path in body "
     "should match"},
    {"AdapterPathDotDot", Target::kModelVersion, Set("/spec/adapters/0/path", "adapters/../.."),
     "spec.adapters[0].path in body should match"},
    {"AdapterPathEmptyComponent", Target::kModelVersion, Set("/spec/adapters/0/path", "a//b"),
     "spec.adapters[0].path in body should match"},
    {"AdapterPathTooLong", Target::kModelVersion, Set("/spec/adapters/0/path", std::string(513, 'p')),
     "spec.adapters[0].path: Too long: may not be more than 512 bytes"},
    {"AdapterNameTwice", Target::kModelVersion,
     Set("/spec/adapters", json::parse(R"([{"name":"sql","path":"a"},{"name":"sql","path":"b"}])")),
     "spec.adapters[1]: Duplicate value: {\"name\":\"sql\"}"},
    {"AdaptersTooMany", Target::kModelVersion,
     [](json& o) {
       json list = json::array();
       for (int i = 0; i < 65; ++i) list.push_back({{"name", "a" + std::to_string(i)}, {"path", "a"}});
       o["spec"]["adapters"] = list;
     },
     "spec.adapters: Too many: 65: must have at most 64 items"},
    // spec.nodeSelector, spec.staging
    {"NodeSelectorTooMany", Target::kModelVersion, Set("/spec/nodeSelector", Entries(33)),
     "spec.nodeSelector: Too many: 33: must have at most 32 items"},
    {"NodeSelectorValueTooLong", Target::kModelVersion,
     Set("/spec/nodeSelector/ferry.dev~1gpu", std::string(64, 'v')),
     "spec.nodeSelector.ferry.dev/gpu: Too long: may not be more than 63 bytes"},
    {"MaxConcurrentNodesZero", Target::kModelVersion, Set("/spec/staging/maxConcurrentNodes", 0),
     "spec.staging.maxConcurrentNodes: Invalid value: 0: spec.staging.maxConcurrentNodes in body "
     "should be greater than or equal to 1"},
    {"MinReadyNodesZero", Target::kModelVersion, Set("/spec/staging/minReadyNodes", 0),
     "spec.staging.minReadyNodes: Invalid value: 0: spec.staging.minReadyNodes in body should be "
     "greater than or equal to 1"},
    {"MaxConcurrentNodesNotInt32", Target::kModelVersion,
     Set("/spec/staging/maxConcurrentNodes", 4294967296LL),
     "spec.staging.maxConcurrentNodes"},
    // spec.serving
    {"StrategyWithoutServing", Target::kModelVersion, Erase("/spec/serving"),
     "spec: Invalid value: spec.serving is required when spec.strategy is set"},
    {"ServingWithoutDeployment", Target::kModelVersion, Erase("/spec/serving/deployment"),
     "spec.serving.deployment: Required value"},
    {"ServingDeploymentNotDns", Target::kModelVersion, Set("/spec/serving/deployment", "Coder"),
     "spec.serving.deployment in body should match"},
    {"ServingDeploymentTooLong", Target::kModelVersion,
     Set("/spec/serving/deployment", std::string(254, 'd')),
     "spec.serving.deployment: Too long: may not be more than 253 bytes"},
    {"ServingServiceNotDnsLabel", Target::kModelVersion, Set("/spec/serving/service", "1coder"),
     "spec.serving.service: Invalid value: \"1coder\": spec.serving.service in body should match "
     "'^[a-z]([-a-z0-9]*[a-z0-9])?$'"},
    {"ServingServiceTooLong", Target::kModelVersion,
     Set("/spec/serving/service", std::string(64, 's')),
     "spec.serving.service: Too long: may not be more than 63 bytes"},
    {"RouteWithoutName", Target::kModelVersion, Set("/spec/serving/route", json::object()),
     "spec.serving.route.name: Required value"},
    {"RouteNameNotDns", Target::kModelVersion, Set("/spec/serving/route/name", "-coder"),
     "spec.serving.route.name in body should match"},
    // spec.strategy
    {"StrategyEmpty", Target::kModelVersion, Set("/spec/strategy", json::object()),
     "spec.strategy: Invalid value: set exactly one of spec.strategy.canary and "
     "spec.strategy.blueGreen"},
    {"StrategyBoth", Target::kModelVersion,
     Set("/spec/strategy/blueGreen", json{{"previewService", "coder-preview"}}),
     "spec.strategy: Invalid value: set exactly one of spec.strategy.canary and "
     "spec.strategy.blueGreen"},
    // spec.strategy.canary
    {"CapacityUnknown", Target::kModelVersion, Set(kCanary + "/capacity", "burst"),
     "spec.strategy.canary.capacity: Unsupported value: \"burst\": supported values: \"surge\", "
     "\"fixed\""},
    {"ProgressDeadlineZero", Target::kModelVersion, Set(kCanary + "/progressDeadlineSeconds", 0),
     "spec.strategy.canary.progressDeadlineSeconds: Invalid value: 0: "
     "spec.strategy.canary.progressDeadlineSeconds in body should be greater than or equal to 1"},
    {"ProgressDeadlineOverADay", Target::kModelVersion,
     Set(kCanary + "/progressDeadlineSeconds", 86401),
     "spec.strategy.canary.progressDeadlineSeconds: Invalid value: 86401: "
     "spec.strategy.canary.progressDeadlineSeconds in body should be less than or equal to 86400"},
    {"CanaryLabelsTooMany", Target::kModelVersion,
     Set(kCanary + "/canaryMetadata/labels", Entries(33)),
     "spec.strategy.canary.canaryMetadata.labels: Too many: 33: must have at most 32 items"},
    {"CanaryLabelValueTooLong", Target::kModelVersion,
     Set(kCanary + "/canaryMetadata/labels/track", std::string(64, 'c')),
     "spec.strategy.canary.canaryMetadata.labels.track: Too long: may not be more than 63 bytes"},
    {"CanaryAnnotationsTooMany", Target::kModelVersion,
     Set(kCanary + "/canaryMetadata/annotations", Entries(33)),
     "spec.strategy.canary.canaryMetadata.annotations: Too many: 33: must have at most 32 items"},
    {"CanaryAnnotationValueTooLong", Target::kModelVersion,
     Set(kCanary + "/canaryMetadata/annotations/note", std::string(4097, 'n')),
     "spec.strategy.canary.canaryMetadata.annotations.note: Too long: may not be more than 4096 "
     "bytes"},
    {"StepEmpty", Target::kModelVersion, Set(kStep0, json::object()),
     "spec.strategy.canary.steps[0]: Invalid value: each canary step sets exactly one "
     "of setWeight, pause, analysis"},
    {"StepWeightAndPause", Target::kModelVersion, Set(kStep0 + "/pause", json::object()),
     "spec.strategy.canary.steps[0]: Invalid value: each canary step sets exactly one "
     "of setWeight, pause, analysis"},
    {"StepPauseAndAnalysis", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/1/analysis", json{{"webhook", {{"url", "http://checks"}}}}),
     "spec.strategy.canary.steps[1]: Invalid value: each canary step sets exactly one "
     "of setWeight, pause, analysis"},
    {"StepAllThree", Target::kModelVersion,
     Set(kStep0, json::parse(R"({"setWeight":5,"pause":{},"analysis":{"webhook":{"url":"http://c"}}})")),
     "spec.strategy.canary.steps[0]: Invalid value: each canary step sets exactly one "
     "of setWeight, pause, analysis"},
    {"SetWeightNegative", Target::kModelVersion, Set(kStep0 + "/setWeight", -1),
     "spec.strategy.canary.steps[0].setWeight: Invalid value: -1: "
     "spec.strategy.canary.steps[0].setWeight in body should be greater than or equal to 0"},
    {"SetWeightOver100", Target::kModelVersion, Set(kStep0 + "/setWeight", 101),
     "spec.strategy.canary.steps[0].setWeight: Invalid value: 101: "
     "spec.strategy.canary.steps[0].setWeight in body should be less than or equal to 100"},
    {"PauseDurationDays", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/2/pause/duration", "1d"),
     "spec.strategy.canary.steps[2].pause.duration: Invalid value: \"1d\": "
     "spec.strategy.canary.steps[2].pause.duration in body should match "
     "'^([0-9]{1,9}h)?([0-9]{1,9}m)?([0-9]{1,9}s)?$'"},
    // More than the operator's duration parser reads (9 digits a unit).
    {"PauseDurationTenDigits", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/2/pause/duration", "9999999999s"),
     "spec.strategy.canary.steps[2].pause.duration in body should match"},
    {"PauseDurationOutOfOrder", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/2/pause/duration", "30m1h"),
     "spec.strategy.canary.steps[2].pause.duration in body should match"},
    {"PauseDurationWithoutUnit", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/2/pause/duration", "600"),
     "spec.strategy.canary.steps[2].pause.duration in body should match"},
    {"PauseDurationEmpty", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/2/pause/duration", ""),
     "spec.strategy.canary.steps[2].pause.duration in body should be at least 2 chars long"},
    {"PauseDurationTooLong", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/2/pause/duration", std::string(32, '1') + "s"),
     "spec.strategy.canary.steps[2].pause.duration: Too long: may not be more than 32 bytes"},
    {"AnalysisWithoutWebhook", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/3/analysis", json::object()),
     "spec.strategy.canary.steps[3].analysis.webhook: Required value"},
    {"WebhookWithoutUrl", Target::kModelVersion,
     Erase("/spec/strategy/canary/steps/3/analysis/webhook/url"),
     "spec.strategy.canary.steps[3].analysis.webhook.url: Required value"},
    {"WebhookUrlFile", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/3/analysis/webhook/url", "file:///checks"),
     "spec.strategy.canary.steps[3].analysis.webhook.url in body should match "
     "'^https?://[^\\s]+$'"},
    {"WebhookUrlTooLong", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/3/analysis/webhook/url", "http://" + std::string(2042, 'a')),
     "spec.strategy.canary.steps[3].analysis.webhook.url: Too long: may not be more than 2048 "
     "bytes"},
    {"WebhookTimeoutZero", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/3/analysis/webhook/timeoutSeconds", 0),
     "spec.strategy.canary.steps[3].analysis.webhook.timeoutSeconds in body should be greater "
     "than or equal to 1"},
    {"WebhookTimeoutOverAnHour", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/3/analysis/webhook/timeoutSeconds", 3601),
     "spec.strategy.canary.steps[3].analysis.webhook.timeoutSeconds in body should be less than "
     "or equal to 3600"},
    {"StepsTooMany", Target::kModelVersion,
     Set(kCanary + "/steps", json::array_t(33, json{{"pause", json::object()}})),
     "spec.strategy.canary.steps: Too many: 33: must have at most 32 items"},
    // spec.strategy.blueGreen
    {"BlueGreenWithoutService", Target::kModelVersion,
     Both(BlueGreen({{"previewService", "coder-preview"}}), Erase("/spec/serving/service")),
     "spec: Invalid value: spec.strategy.blueGreen needs spec.serving.service"},
    {"PreviewServiceIsTheActiveService", Target::kModelVersion,
     BlueGreen({{"previewService", "coder"}}),
     "spec: Invalid value: spec.strategy.blueGreen.previewService must differ from "
     "spec.serving.service"},
    {"AutoPromotionOverADay", Target::kModelVersion,
     BlueGreen({{"previewService", "coder-preview"}, {"autoPromotionSeconds", 86401}}),
     "spec.strategy.blueGreen.autoPromotionSeconds in body should be less than or equal to "
     "86400"},
    {"ScaleDownDelayOverADay", Target::kModelVersion,
     BlueGreen({{"previewService", "coder-preview"}, {"scaleDownDelaySeconds", 86401}}),
     "spec.strategy.blueGreen.scaleDownDelaySeconds in body should be less than or equal to "
     "86400"},
    {"PreviewServiceNotDnsLabel", Target::kModelVersion,
     BlueGreen({{"previewService", "coder.preview"}}),
     "spec.strategy.blueGreen.previewService: Invalid value: \"coder.preview\": "
     "spec.strategy.blueGreen.previewService in body should match '^[a-z]([-a-z0-9]*[a-z0-9])?$'"},
    {"PreviewServiceEmpty", Target::kModelVersion, BlueGreen({{"previewService", ""}}),
     "spec.strategy.blueGreen.previewService in body should be at least 1 chars long"},
    {"PreviewServiceTooLong", Target::kModelVersion,
     BlueGreen({{"previewService", std::string(64, 'p')}}),
     "spec.strategy.blueGreen.previewService: Too long: may not be more than 63 bytes"},
    {"AutoPromotionNegative", Target::kModelVersion,
     BlueGreen({{"previewService", "coder-preview"}, {"autoPromotionSeconds", -1}}),
     "spec.strategy.blueGreen.autoPromotionSeconds: Invalid value: -1: "
     "spec.strategy.blueGreen.autoPromotionSeconds in body should be greater than or equal to 0"},
    {"ScaleDownDelayNegative", Target::kModelVersion,
     BlueGreen({{"previewService", "coder-preview"}, {"scaleDownDelaySeconds", -1}}),
     "spec.strategy.blueGreen.scaleDownDelaySeconds: Invalid value: -1: "
     "spec.strategy.blueGreen.scaleDownDelaySeconds in body should be greater than or equal to 0"},
    {"BlueGreenProgressDeadlineZero", Target::kModelVersion,
     BlueGreen({{"previewService", "coder-preview"}, {"progressDeadlineSeconds", 0}}),
     "spec.strategy.blueGreen.progressDeadlineSeconds: Invalid value: 0: "
     "spec.strategy.blueGreen.progressDeadlineSeconds in body should be greater than or equal to 1"},
    {"BlueGreenProgressDeadlineOverADay", Target::kModelVersion,
     BlueGreen({{"previewService", "coder-preview"}, {"progressDeadlineSeconds", 86401}}),
     "spec.strategy.blueGreen.progressDeadlineSeconds: Invalid value: 86401: "
     "spec.strategy.blueGreen.progressDeadlineSeconds in body should be less than or equal to 86400"},
    // spec.rollback
    {"KeepVersionsZero", Target::kModelVersion, Set("/spec/rollback/keepVersions", 0),
     "spec.rollback.keepVersions: Invalid value: 0: spec.rollback.keepVersions in body should be "
     "greater than or equal to 1"},
    {"KeepVersionsOver16", Target::kModelVersion, Set("/spec/rollback/keepVersions", 17),
     "spec.rollback.keepVersions: Invalid value: 17: spec.rollback.keepVersions in body should be "
     "less than or equal to 16"},
    {"OnFailureNotBoolean", Target::kModelVersion, Set("/spec/rollback/onFailure", "yes"),
     "spec.rollback.onFailure: Invalid value: \"string\": spec.rollback.onFailure in body must be "
     "of type boolean: \"string\""},
    // ModelVersion status (through the status subresource)
    {"PhaseUnknown", Target::kModelVersionStatus, Set("/status/phase", "Running"),
     "status.phase: Unsupported value: \"Running\": supported values: \"Pending\", \"Staging\", "
     "\"Progressing\", \"Paused\", \"Promoted\", \"Degraded\", \"Aborted\", \"RolledBack\", "
     "\"Superseded\", \"Failed\""},
    {"PromoteUnknown", Target::kModelVersionStatus, Set("/status/promote", "all"),
     "status.promote: Unsupported value: \"all\": supported values: \"step\", \"full\""},
    {"AbortNotBoolean", Target::kModelVersionStatus, Set("/status/abort", "true"),
     "status.abort: Invalid value: \"string\": abort in body must be of type boolean"},
    {"CurrentStepNegative", Target::kModelVersionStatus, Set("/status/currentStep", -1),
     "status.currentStep: Invalid value: -1: currentStep in body should be greater than or "
     "equal to 0"},
    {"CanaryWeightOver100", Target::kModelVersionStatus, Set("/status/canaryWeight", 101),
     "status.canaryWeight: Invalid value: 101: canaryWeight in body should be less than or "
     "equal to 100"},
    {"CanaryWeightNegative", Target::kModelVersionStatus, Set("/status/canaryWeight", -1),
     "status.canaryWeight: Invalid value: -1: canaryWeight in body should be greater than or equal to 0"},
    {"ObservedGenerationNegative", Target::kModelVersionStatus, Set("/status/observedGeneration", -1),
     "status.observedGeneration: Invalid value: -1: observedGeneration in body should be greater than or equal to 0"},
    {"StepStartTimeNotATime", Target::kModelVersionStatus, Set("/status/stepStartTime", "yesterday"),
     "status.stepStartTime: Invalid value: \"yesterday\": stepStartTime in body must be of "
     "type date-time"},
    {"StableVersionTooLong", Target::kModelVersionStatus,
     Set("/status/stableVersion", std::string(129, '1')),
     "status.stableVersion: Too long: may not be more than 128 bytes"},
    {"NodesReadyNegative", Target::kModelVersionStatus, Set("/status/nodes/ready", -1),
     "status.nodes.ready: Invalid value: -1: nodes.ready in body should be greater than or equal to 0"},
    {"NodesDesiredNegative", Target::kModelVersionStatus, Set("/status/nodes/desired", -1),
     "status.nodes.desired: Invalid value: -1: nodes.desired in body should be greater than or equal to 0"},
    {"NodesFailedNegative", Target::kModelVersionStatus, Set("/status/nodes/failed", -1),
     "status.nodes.failed: Invalid value: -1: nodes.failed in body should be greater than or equal to 0"},
    {"MessageTooLong", Target::kModelVersionStatus, Set("/status/message", std::string(4097, 'm')),
     "status.message: Too long: may not be more than 4096 bytes"},
    {"ConditionWithoutReason", Target::kModelVersionStatus, Erase("/status/conditions/0/reason"),
     "status.conditions[0].reason: Required value"},
    {"ConditionWithoutMessage", Target::kModelVersionStatus, Erase("/status/conditions/0/message"),
     "status.conditions[0].message: Required value"},
    {"ConditionWithoutTime", Target::kModelVersionStatus,
     Erase("/status/conditions/0/lastTransitionTime"),
     "status.conditions[0].lastTransitionTime: Required value"},
    {"ConditionStatusUnknownValue", Target::kModelVersionStatus,
     Set("/status/conditions/0/status", "Maybe"),
     "status.conditions[0].status: Unsupported value: \"Maybe\": supported values: \"True\", "
     "\"False\", \"Unknown\""},
    {"ConditionReasonWithSpace", Target::kModelVersionStatus,
     Set("/status/conditions/0/reason", "Awaiting promotion"),
     "status.conditions[0].reason: Invalid value: \"Awaiting promotion\": conditions[0].reason in body should match"},
    {"ConditionTypeWithSpace", Target::kModelVersionStatus, Set("/status/conditions/0/type", "Is Paused"),
     "status.conditions[0].type: Invalid value: \"Is Paused\": conditions[0].type in body should match"},
    {"ConditionTypeTwice", Target::kModelVersionStatus,
     [](json& o) { o["status"]["conditions"].push_back(o["status"]["conditions"][0]); },
     "status.conditions[1]: Duplicate value: {\"type\":\"Paused\"}"},
    {"HistoryTooLong", Target::kModelVersionStatus,
     [](json& o) { o["status"]["history"] = json::array_t(33, o["status"]["history"][0]); },
     "status.history: Too many: 33: must have at most 32 items"},
    {"HistoryWithoutTime", Target::kModelVersionStatus, Erase("/status/history/0/time"),
     "status.history[0].time: Required value"},
    {"HistoryPhaseUnknown", Target::kModelVersionStatus, Set("/status/history/0/phase", "Done"),
     "status.history[0].phase: Unsupported value: \"Done\""},
    {"HistoryWeightOver100", Target::kModelVersionStatus, Set("/status/history/0/weight", 101),
     "status.history[0].weight: Invalid value: 101: history[0].weight in body should be less than or equal to 100"},
    {"HistoryStepNegative", Target::kModelVersionStatus, Set("/status/history/0/step", -1),
     "status.history[0].step: Invalid value: -1: history[0].step in body should be greater than or equal to 0"},
    // ModelNode spec
    {"NodeModelWithoutVersions", Target::kModelNode, Erase("/spec/models/0/versions"),
     "spec.models[0].versions: Required value"},
    {"NodeActiveNotListed", Target::kModelNode, Set("/spec/models/0/active", "2.0.0"),
     "spec.models[0]: Invalid value: active must be one of the listed versions"},
    {"NodeActiveNotSemVer", Target::kModelNode, Set("/spec/models/0/active", "current"),
     "spec.models[0].active in body should match"},
    {"NodeModelNotDns", Target::kModelNode, Set("/spec/models/0/model", "Coder"),
     "spec.models[0].model in body should match"},
    {"NodeModelEmpty", Target::kModelNode, Set("/spec/models/0/model", ""),
     "spec.models[0].model in body should be at least 1 chars long"},
    {"NodeModelTwice", Target::kModelNode,
     [](json& o) { o["spec"]["models"].push_back(o["spec"]["models"][0]); },
     "spec.models[1]: Duplicate value: {\"model\":\"coder-6.7b\"}"},
    {"NodeModelsTooMany", Target::kModelNode,
     [](json& o) {
       json one = o["spec"]["models"][0];
       one.erase("active");
       one["versions"].erase(1);
       json list = json::array();
       for (int i = 0; i < 65; ++i) {
         one["model"] = "m" + std::to_string(i);
         list.push_back(one);
       }
       o["spec"]["models"] = list;
     },
     "spec.models: Too many: 65: must have at most 64 items"},
    {"NodeVersionWithoutSource", Target::kModelNode, Erase(kNodeVersion + "/source"),
     "spec.models[0].versions[1].source: Required value"},
    {"NodeVersionNotSemVer", Target::kModelNode, Set(kNodeVersion + "/version", "1.1"),
     "spec.models[0].versions[1].version in body should match"},
    {"NodeVersionTwice", Target::kModelNode,
     [](json& o) { o["spec"]["models"][0]["versions"].push_back(o["spec"]["models"][0]["versions"][1]); },
     "spec.models[0].versions[2]: Duplicate value: {\"version\":\"1.1.0\"}"},
    {"NodeVersionsTooMany", Target::kModelNode,
     [](json& o) {
       json list = json::array();
       for (const json& v : Versions(33)) list.push_back({{"version", v}, {"source", {{"repository", "file:///r"}}}});
       o["spec"]["models"][0]["versions"] = list;
     },
     "spec.models[0].versions: Too many: 33: must have at most 32 items"},
    {"NodeSourceWithoutRepository", Target::kModelNode, Erase(kNodeVersion + "/source/repository"),
     "spec.models[0].versions[1].source.repository: Required value"},
    {"NodeRepositoryScheme", Target::kModelNode, Set(kNodeVersion + "/source/repository", "s3://b"),
     "spec.models[0].versions[1].source.repository in body should match"},
    {"NodeDigestNotSha256", Target::kModelNode, Set(kNodeVersion + "/source/manifestDigest", "sha256:00"),
     "spec.models[0].versions[1].source.manifestDigest in body should match"},
    {"NodePublicKeyTooLong", Target::kModelNode,
     Set(kNodeVersion + "/source/publicKey", std::string(4097, 'k')),
     "spec.models[0].versions[1].source.publicKey: Too long: may not be more than 4096 bytes"},
    {"NodeDeltaFromTooMany", Target::kModelNode, Set(kNodeVersion + "/source/deltaFrom", Versions(17)),
     "spec.models[0].versions[1].source.deltaFrom: Too many: 17: must have at most 16 items"},
    {"NodeDeltaFromNotSemVer", Target::kModelNode, Set(kNodeVersion + "/source/deltaFrom", json::array({"old"})),
     "spec.models[0].versions[1].source.deltaFrom[0] in body should match"},
    {"NodeRefWithoutNamespace", Target::kModelNode, Erase(kNodeVersion + "/modelVersionRef/namespace"),
     "spec.models[0].versions[1].modelVersionRef.namespace: Required value"},
    {"NodeRefNamespaceTooLong", Target::kModelNode,
     Set(kNodeVersion + "/modelVersionRef/namespace", std::string(64, 'n')),
     "spec.models[0].versions[1].modelVersionRef.namespace: Too long: may not be more than 63 bytes"},
    // ModelNode status (through the status subresource, as the agent writes it)
    {"HeartbeatSecondsZero", Target::kModelNodeStatus, Set("/status/heartbeatSeconds", 0),
     "status.heartbeatSeconds: Invalid value: 0: heartbeatSeconds in body should be greater "
     "than or equal to 1"},
    {"HeartbeatSecondsOverAnHour", Target::kModelNodeStatus, Set("/status/heartbeatSeconds", 3601),
     "status.heartbeatSeconds: Invalid value: 3601: heartbeatSeconds in body should be less "
     "than or equal to 3600"},
    {"HeartbeatNotATime", Target::kModelNodeStatus, Set("/status/heartbeat", "now"),
     "status.heartbeat: Invalid value: \"now\": heartbeat in body must be of type date-time"},
    {"NodeStateUnknown", Target::kModelNodeStatus, Set("/status/versions/0/state", "Done"),
     "status.versions[0].state: Unsupported value: \"Done\": supported values: \"Pending\", "
     "\"Fetching\", \"Staging\", \"Verifying\", \"Ready\", \"Active\", \"Failed\", \"Removing\""},
    {"NodeStatusVersionWithoutState", Target::kModelNodeStatus, Erase("/status/versions/0/state"),
     "status.versions[0].state: Required value"},
    {"NodeStatusVersionTwice", Target::kModelNodeStatus,
     [](json& o) { o["status"]["versions"].push_back(o["status"]["versions"][0]); },
     "status.versions[2]: Duplicate value: {\"model\":\"coder-6.7b\","
     "\"version\":\"1.0.0\"}"},
    {"NodeStatusVersionsTooMany", Target::kModelNodeStatus,
     [](json& o) {
       json list = json::array();
       for (int i = 0; i < 513; ++i) {
         list.push_back({{"model", "m"}, {"version", "1.0." + std::to_string(i)}, {"state", "Ready"}});
       }
       o["status"]["versions"] = list;
     },
     "status.versions: Too many: 513: must have at most 512 items"},
    {"NodeBytesNegative", Target::kModelNodeStatus, Set("/status/versions/0/bytes", -1),
     "status.versions[0].bytes: Invalid value: -1: versions[0].bytes in body should be greater than or equal to 0"},
    {"NodeTotalBytesNegative", Target::kModelNodeStatus, Set("/status/versions/0/totalBytes", -1),
     "status.versions[0].totalBytes: Invalid value: -1: versions[0].totalBytes in body should be greater than or equal to 0"},
    {"NodeDownloadedBytesNegative", Target::kModelNodeStatus,
     Set("/status/versions/0/downloadedBytes", -1),
     "status.versions[0].downloadedBytes: Invalid value: -1: versions[0].downloadedBytes in body should be greater than or equal to 0"},
    {"NodeStatusDigestNotSha256", Target::kModelNodeStatus, Set("/status/versions/0/digest", "abc"),
     "status.versions[0].digest: Invalid value: \"abc\": versions[0].digest in body should match '^sha256:[a-f0-9]{64}$'"},
    {"NodeStatusMessageTooLong", Target::kModelNodeStatus,
     Set("/status/versions/1/message", std::string(4097, 'm')),
     "status.versions[1].message: Too long: may not be more than 4096 bytes"},
    {"NodeStatusDeltaFromTooLong", Target::kModelNodeStatus,
     Set("/status/versions/1/deltaFrom", std::string(129, '1')),
     "status.versions[1].deltaFrom: Too long: may not be more than 128 bytes"},
    {"DiskCapacityNegative", Target::kModelNodeStatus, Set("/status/disk/capacityBytes", -1),
     "status.disk.capacityBytes: Invalid value: -1: disk.capacityBytes in body should be greater than or equal to 0"},
    {"DiskAvailableNegative", Target::kModelNodeStatus, Set("/status/disk/availableBytes", -1),
     "status.disk.availableBytes: Invalid value: -1: disk.availableBytes in body should be greater than or equal to 0"},
    {"DiskStoreNegative", Target::kModelNodeStatus, Set("/status/disk/storeBytes", -1),
     "status.disk.storeBytes: Invalid value: -1: disk.storeBytes in body should be greater than or equal to 0"},
    {"TotalGpusNegative", Target::kModelNodeStatus, Set("/status/totalGPUs", -1),
     "status.totalGPUs: Invalid value: -1: totalGPUs in body should be greater than or equal to 0"},
    {"HealthyGpusNegative", Target::kModelNodeStatus, Set("/status/healthyGPUs", -1),
     "status.healthyGPUs: Invalid value: -1: healthyGPUs in body should be greater than or equal to 0"},
    {"GpuIndexNegative", Target::kModelNodeStatus, Set("/status/gpus/0/index", -1),
     "status.gpus[0].index: Invalid value: -1: gpus[0].index in body should be greater than or equal to 0"},
    {"GpuWithoutHealthy", Target::kModelNodeStatus, Erase("/status/gpus/0/healthy"),
     "status.gpus[0].healthy: Required value"},
    {"GpuIndexTwice", Target::kModelNodeStatus,
     [](json& o) { o["status"]["gpus"].push_back(o["status"]["gpus"][0]); },
     "status.gpus[1]: Duplicate value: {\"index\":0}"},
    {"GpusTooMany", Target::kModelNodeStatus,
     [](json& o) {
       json list = json::array();
       for (int i = 0; i < 65; ++i) list.push_back({{"index", i}, {"healthy", true}});
       o["status"]["gpus"] = list;
     },
     "status.gpus: Too many: 65: must have at most 64 items"},
    {"GpuReasonsTooMany", Target::kModelNodeStatus,
     Set("/status/gpus/0/reasons", json::array_t(17, "hot")),
     "status.gpus[0].reasons: Too many: 17: must have at most 16 items"},
    {"GpuReasonTooLong", Target::kModelNodeStatus,
     Set("/status/gpus/0/reasons", json::array({std::string(257, 'r')})),
     "status.gpus[0].reasons[0]: Too long: may not be more than 256 bytes"},
    {"GpuEccNegative", Target::kModelNodeStatus, Set("/status/gpus/0/eccUncorrected", -1),
     "status.gpus[0].eccUncorrected: Invalid value: -1: gpus[0].eccUncorrected in body should be greater than or equal to 0"},
    {"GpuRetiredPagesNegative", Target::kModelNodeStatus, Set("/status/gpus/0/retiredPages", -1),
     "status.gpus[0].retiredPages: Invalid value: -1: gpus[0].retiredPages in body should be greater than or equal to 0"},
    {"GpuXidTwice", Target::kModelNodeStatus, Set("/status/gpus/0/xidCritical", json::array({79, 79})),
     "status.gpus[0].xidCritical[1]: Duplicate value: 79"},
    {"GpuApplicationXidTwice", Target::kModelNodeStatus,
     Set("/status/gpus/0/xidApplication", json::array({13, 13})),
     "status.gpus[0].xidApplication[1]: Duplicate value: 13"},
    {"GpuUtilizationOver100", Target::kModelNodeStatus, Set("/status/gpus/0/utilizationPercent", 101),
     "status.gpus[0].utilizationPercent: Invalid value: 101: gpus[0].utilizationPercent in body should be less than or equal to 100"},
    {"GpuMemoryUsedNegative", Target::kModelNodeStatus, Set("/status/gpus/0/memoryUsedBytes", -1),
     "status.gpus[0].memoryUsedBytes: Invalid value: -1: gpus[0].memoryUsedBytes in body should be greater than or equal to 0"},
    {"GpuXidTooMany", Target::kModelNodeStatus,
     [](json& o) {
       json list = json::array();
       for (int i = 0; i < 33; ++i) list.push_back(i);
       o["status"]["gpus"][0]["xidCritical"] = list;
     },
     "status.gpus[0].xidCritical: Too many: 33: must have at most 32 items"},
    {"GpuThrottleReasonsTooMany", Target::kModelNodeStatus,
     [](json& o) {
       json list = json::array();
       for (int i = 0; i < 17; ++i) list.push_back("R" + std::to_string(i));
       o["status"]["gpus"][0]["throttleReasons"] = list;
     },
     "status.gpus[0].throttleReasons: Too many: 17: must have at most 16 items"},
    {"GpuNameTooLong", Target::kModelNodeStatus, Set("/status/gpus/0/name", std::string(257, 'n')),
     "status.gpus[0].name: Too long: may not be more than 256 bytes"},
    {"GpuUuidTooLong", Target::kModelNodeStatus, Set("/status/gpus/0/uuid", std::string(129, 'u')),
     "status.gpus[0].uuid: Too long: may not be more than 128 bytes"},
    {"AgentVersionTooLong", Target::kModelNodeStatus, Set("/status/agentVersion", std::string(65, '1')),
     "status.agentVersion: Too long: may not be more than 64 bytes"},
    {"NodeConditionWithoutReason", Target::kModelNodeStatus, Erase("/status/conditions/0/reason"),
     "status.conditions[0].reason: Required value"},
    {"NodeConditionStatusUnknownValue", Target::kModelNodeStatus,
     Set("/status/conditions/0/status", "Yes"),
     "status.conditions[0].status: Unsupported value: \"Yes\""},
    {"NodeObservedGenerationNegative", Target::kModelNodeStatus, Set("/status/observedGeneration", -1),
     "status.observedGeneration: Invalid value: -1: observedGeneration in body should be greater than or equal to 0"},
};

// The other side of each bound, and the updates the rules allow.
const Case kAllowed[] = {
    {"TheValidModelVersion", Target::kModelVersion, [](json&) {}, ""},
    {"TheValidModelNode", Target::kModelNode, [](json&) {}, ""},
    {"DistributionOnly", Target::kModelVersion,
     [](json& o) {
       for (const char* key :
            {"adapters", "nodeSelector", "staging", "serving", "strategy", "rollback"}) {
         o["spec"].erase(key);
       }
       o["spec"]["source"].erase("manifestDigest");
     },
     ""},
    {"DigestOnly", Target::kModelVersion, Erase("/spec/source/publicKeySecretRef"), ""},
    {"ModelLongest", Target::kModelVersion, Set("/spec/model", std::string(253, 'a')), ""},
    {"VersionShortest", Target::kModelVersion, Set("/spec/version", "0.0.1"), ""},
    {"VersionPreReleaseAndBuild", Target::kModelVersion, Set("/spec/version", "2.0.0-rc.1+build.5"),
     ""},
    {"RepositoryFile", Target::kModelVersion,
     Set("/spec/source/repository", "file:///mnt/usb/repo"), ""},
    {"RepositoryHttps", Target::kModelVersion,
     Set("/spec/source/repository", "https://repo.example"), ""},
    {"DeltaFrom16", Target::kModelVersion, Set("/spec/source/deltaFrom", Versions(16)), ""},
    {"NodeSelector32", Target::kModelVersion, Set("/spec/nodeSelector", Entries(32, 63)), ""},
    {"CapacityFixed", Target::kModelVersion, Set(kCanary + "/capacity", "fixed"), ""},
    {"ProgressDeadlineOne", Target::kModelVersion, Set(kCanary + "/progressDeadlineSeconds", 1),
     ""},
    {"ProgressDeadlineADay", Target::kModelVersion,
     Set(kCanary + "/progressDeadlineSeconds", 86400), ""},
    {"CanaryLabels32", Target::kModelVersion,
     Set(kCanary + "/canaryMetadata/labels", Entries(32, 63)), ""},
    {"CanaryAnnotations32", Target::kModelVersion,
     Set(kCanary + "/canaryMetadata/annotations", Entries(32, 4096)), ""},
    {"SetWeightZero", Target::kModelVersion, Set(kStep0 + "/setWeight", 0), ""},
    {"SetWeight100", Target::kModelVersion, Set(kStep0 + "/setWeight", 100), ""},
    {"PauseHoursMinutesSeconds", Target::kModelVersion,
     Set("/spec/strategy/canary/steps/2/pause/duration", "1h30m15s"), ""},
    {"WebhookTimeoutBounds", Target::kModelVersion,
     Both(
         Set("/spec/strategy/canary/steps/3/analysis/webhook/timeoutSeconds", 1),
         Set("/spec/strategy/canary/steps/1",
             json::parse(R"({"analysis":{"webhook":{"url":"https://c","timeoutSeconds":3600}}})"))),
     ""},
    {"Steps32", Target::kModelVersion,
     Set(kCanary + "/steps", json::array_t(32, json{{"setWeight", 50}})), ""},
    {"NoSteps", Target::kModelVersion, Set(kCanary, json::object()), ""},
    {"BlueGreenZeroDelays", Target::kModelVersion,
     BlueGreen({{"previewService", std::string(63, 'p')},
                {"autoPromotionSeconds", 0},
                {"scaleDownDelaySeconds", 0}}),
     ""},
    {"BlueGreenProgressDeadlineOne", Target::kModelVersion,
     BlueGreen({{"previewService", "coder-preview"}, {"progressDeadlineSeconds", 1}}), ""},
    {"BlueGreenProgressDeadlineADay", Target::kModelVersion,
     BlueGreen({{"previewService", "coder-preview"}, {"progressDeadlineSeconds", 86400}}), ""},
    {"KeepVersionsOne", Target::kModelVersion, Set("/spec/rollback/keepVersions", 1), ""},
    {"KeepVersions16", Target::kModelVersion, Set("/spec/rollback/keepVersions", 16), ""},
    {"RepositoryChanged", Target::kModelVersionUpdate,
     Set("/spec/source/repository", "https://mirror.example/repo"), ""},
    {"PromoteStep", Target::kModelVersionStatus, Set("/status/promote", "step"), ""},
    {"PromoteFullAndAbort", Target::kModelVersionStatus,
     Both(Set("/status/promote", "full"), Set("/status/abort", true)), ""},
    {"History32", Target::kModelVersionStatus,
     [](json& o) { o["status"]["history"] = json::array_t(32, o["status"]["history"][0]); }, ""},
    {"CanaryWeightBounds", Target::kModelVersionStatus,
     Both(Set("/status/canaryWeight", 100), Set("/status/history/0/weight", 0)), ""},
    {"NodeWithoutActive", Target::kModelNode, Erase("/spec/models/0/active"), ""},
    {"HeartbeatSecondsOne", Target::kModelNodeStatus, Set("/status/heartbeatSeconds", 1), ""},
    {"HeartbeatSecondsAnHour", Target::kModelNodeStatus, Set("/status/heartbeatSeconds", 3600), ""},
    {"NodeEveryState", Target::kModelNodeStatus,
     [](json& o) {
       json list = json::array();
       int i = 0;
       for (const char* state : {"Pending", "Fetching", "Staging", "Verifying", "Ready", "Active",
                                 "Failed", "Removing"}) {
         list.push_back(
             {{"model", "m"}, {"version", "1.0." + std::to_string(i++)}, {"state", state}});
       }
       o["status"]["versions"] = list;
     },
     ""},
};

INSTANTIATE_TEST_SUITE_P(Crds, Rejects, ::testing::ValuesIn(kRefused), CaseName);
INSTANTIATE_TEST_SUITE_P(Crds, Accepts, ::testing::ValuesIn(kAllowed), CaseName);

// Defaults: what the API server stores for fields the user left out.
class CrdDefaultsTest : public KubectlNamespaceTest {
 protected:
  CrdDefaultsTest() : KubectlNamespaceTest("crd") {}

  // Applies `object` and returns the stored spec.
  json AppliedSpec(const json& object) {
    ProcessResult applied = Kubectl({"apply", "-n", namespace_, "-f", "-"}, object.dump());
    EXPECT_EQ(applied.exit_code, 0) << applied.err;
    ProcessResult got = Kubectl({"get", "mv", "coder-1-1-0", "-n", namespace_, "-o", "json"});
    EXPECT_EQ(got.exit_code, 0) << got.err;
    return got.exit_code == 0 ? json::parse(got.out)["spec"] : json();
  }
};

json Minimal() {
  json object = ValidModelVersion();
  json& spec = object["spec"];
  for (const char* key : {"adapters", "nodeSelector", "staging", "rollback"}) spec.erase(key);
  spec["source"]["publicKeySecretRef"].erase("key");
  spec["strategy"]["canary"] = json::parse(
      R"({"steps": [{"setWeight": 20}, {"analysis": {"webhook": {"url": "http://checks"}}}]})");
  return object;
}

TEST_F(CrdDefaultsTest, CanaryStagingRollbackAndKeyDefaults) {
  const json spec = AppliedSpec(Minimal());
  ASSERT_FALSE(spec.is_null());
  const json& canary = spec["strategy"]["canary"];
  EXPECT_EQ(canary["capacity"], "surge") << spec.dump();
  EXPECT_EQ(canary["progressDeadlineSeconds"], 600) << spec.dump();
  EXPECT_EQ(canary["steps"][1]["analysis"]["webhook"]["timeoutSeconds"], 30) << spec.dump();
  EXPECT_FALSE(canary.contains("canaryMetadata")) << spec.dump();
  EXPECT_EQ(spec["rollback"], json::parse(R"({"onFailure": true, "keepVersions": 2})"));
  EXPECT_EQ(spec["staging"], json::parse(R"({"maxConcurrentNodes": 4, "minReadyNodes": 1})"));
  EXPECT_EQ(spec["source"]["publicKeySecretRef"]["key"], "public.key");
}

TEST_F(CrdDefaultsTest, BlueGreenDefaults) {
  json object = Minimal();
  object["spec"]["strategy"] = json::parse(R"({"blueGreen": {"previewService": "coder-preview"}})");
  const json spec = AppliedSpec(object);
  ASSERT_FALSE(spec.is_null());
  const json& blue_green = spec["strategy"]["blueGreen"];
  EXPECT_EQ(blue_green["scaleDownDelaySeconds"], 30) << spec.dump();
  EXPECT_EQ(blue_green["progressDeadlineSeconds"], 600) << spec.dump();
  // Absent means "wait for status.promote": it must not be defaulted.
  EXPECT_FALSE(blue_green.contains("autoPromotionSeconds")) << spec.dump();
  EXPECT_FALSE(spec["strategy"].contains("canary")) << spec.dump();
}

TEST_F(CrdDefaultsTest, ExplicitValuesAreKept) {
  json object = Minimal();
  object["spec"]["strategy"]["canary"]["capacity"] = "fixed";
  object["spec"]["strategy"]["canary"]["progressDeadlineSeconds"] = 60;
  object["spec"]["rollback"] = json::parse(R"({"onFailure": false, "keepVersions": 5})");
  object["spec"]["staging"] = json::parse(R"({"maxConcurrentNodes": 9})");
  const json spec = AppliedSpec(object);
  ASSERT_FALSE(spec.is_null());
  EXPECT_EQ(spec["strategy"]["canary"]["capacity"], "fixed");
  EXPECT_EQ(spec["strategy"]["canary"]["progressDeadlineSeconds"], 60);
  EXPECT_EQ(spec["rollback"], json::parse(R"({"onFailure": false, "keepVersions": 5})"));
  EXPECT_EQ(spec["staging"], json::parse(R"({"maxConcurrentNodes": 9, "minReadyNodes": 1})"));
}

// The transition rule lets a digest be pinned later, only not changed or dropped.
TEST_F(CrdDefaultsTest, ManifestDigestCanBeAddedLater) {
  json object = ValidModelVersion();
  object["spec"]["source"].erase("manifestDigest");
  ASSERT_FALSE(AppliedSpec(object).is_null());
  object["spec"]["source"]["manifestDigest"] = kDigest;
  EXPECT_EQ(AppliedSpec(object)["source"]["manifestDigest"], kDigest);
}

}  // namespace
}  // namespace ferry::testing
