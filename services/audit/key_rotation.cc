#include "services/audit/key_rotation.h"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/envelope.h"

namespace klaxon::audit {
namespace {

// The versions other than `current` that still wrap keys.
std::map<uint32_t, int64_t> OtherVersions(const std::map<uint32_t, int64_t>& counts,
                                          uint32_t current) {
  std::map<uint32_t, int64_t> others = counts;
  others.erase(current);
  std::erase_if(others, [](const auto& entry) { return entry.second == 0; });
  return others;
}

// Rewraps page[begin, end) into the same positions of `updates`.
absl::Status RewrapRange(crypto::KeyWrapper& keys, const std::vector<StoredDataKey>& page,
                         size_t begin, size_t end, std::vector<DataKeyUpdate>& updates) {
  crypto::Envelope envelope(keys);
  for (size_t i = begin; i < end; ++i) {
    absl::StatusOr<crypto::WrappedKey> rewrapped = envelope.Rewrap(page[i].wrapped, page[i].owner);
    if (!rewrapped.ok()) {
      return absl::Status(
          rewrapped.status().code(),
          absl::StrCat("the data key of ", page[i].owner, ": ", rewrapped.status().message()));
    }
    updates[i] = {
        .owner = page[i].owner, .expected = page[i].wrapped, .replacement = *std::move(rewrapped)};
  }
  return absl::OkStatus();
}

// The page's keys rewrapped under the current version, split over up to `threads` threads.
absl::StatusOr<std::vector<DataKeyUpdate>> RewrapPage(crypto::KeyWrapper& keys,
                                                      const std::vector<StoredDataKey>& page,
                                                      size_t threads) {
  std::vector<DataKeyUpdate> updates(page.size());
  const size_t workers = std::clamp<size_t>(threads, 1, page.size());
  const size_t share = (page.size() + workers - 1) / workers;
  std::vector<absl::Status> results(workers);
  {
    std::vector<std::jthread> helpers;
    for (size_t worker = 1; worker < workers; ++worker) {
      helpers.emplace_back([&, worker] {
        results[worker] = RewrapRange(keys, page, std::min(worker * share, page.size()),
                                      std::min((worker + 1) * share, page.size()), updates);
      });
    }
    results[0] = RewrapRange(keys, page, 0, std::min(share, page.size()), updates);
  }  // joins the helpers
  for (absl::Status& result : results) {
    if (!result.ok()) return std::move(result);
  }
  return updates;
}

}  // namespace

absl::StatusOr<RotationReport> RotateDataKeys(DataKeyStore& store, crypto::KeyWrapper& keys,
                                              timing::Clock& clock,
                                              const RotationOptions& options) {
  const absl::Time started = clock.Now();
  RotationReport report{.current_version = keys.CurrentVersion()};
  const uint32_t current = report.current_version;
  auto stopped = [&](const absl::Status& status) {
    return absl::Status(status.code(),
                        absl::StrCat("rotation to key version ", current, " stopped after ",
                                     report.rewrapped, " keys were rewrapped: ", status.message()));
  };

  absl::StatusOr<std::map<uint32_t, int64_t>> counts = store.CountByVersion();
  if (!counts.ok()) return stopped(counts.status());
  if (const auto found = counts->find(current); found != counts->end()) {
    report.already_current = found->second;
  }
  report.remaining = OtherVersions(*counts, current);

  const size_t batch_size = std::max<size_t>(options.batch_size, 1);
  while (!report.remaining.empty() && report.passes < options.max_passes) {
    ++report.passes;
    std::string after;
    while (true) {
      absl::StatusOr<std::vector<StoredDataKey>> page =
          store.KeysNotUnder(current, after, batch_size);
      if (!page.ok()) return stopped(page.status());
      if (page->empty()) break;
      after = page->back().owner;
      absl::StatusOr<std::vector<DataKeyUpdate>> updates = RewrapPage(keys, *page, options.threads);
      if (!updates.ok()) return stopped(updates.status());
      absl::StatusOr<size_t> written = store.ReplaceIfUnchanged(*updates);
      if (!written.ok()) return stopped(written.status());
      report.rewrapped += static_cast<int64_t>(*written);
      report.changed_concurrently += static_cast<int64_t>(updates->size() - *written);
      if (page->size() < batch_size) break;
    }
    counts = store.CountByVersion();
    if (!counts.ok()) return stopped(counts.status());
    report.remaining = OtherVersions(*counts, current);
  }
  report.elapsed = clock.Now() - started;

  if (!report.remaining.empty()) {
    int64_t left = 0;
    for (const auto& [version, count] : report.remaining) left += count;
    return absl::FailedPreconditionError(absl::StrCat(
        "rotation to key version ", current, " rewrapped ", report.rewrapped, " keys in ",
        report.passes, " passes, but ", left, " keys remain under key version(s) ",
        absl::StrJoin(
            report.remaining, ", ",
            [](std::string* out, const auto& entry) { absl::StrAppend(out, entry.first); }),
        ": an audit replica may still wrap new keys under an old version; roll every replica to "
        "the keyring whose current version is ",
        current, " and run rotate again"));
  }
  return report;
}

}  // namespace klaxon::audit
