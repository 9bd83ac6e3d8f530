#pragma once
// The DataKeyStore adapter for Postgres (data_keys, services/audit/postgres/migrations/0004). Pages
// are read by keyset on the primary key (owner), so each costs an index range scan however far the
// rotation has got; a page is written back with one UPDATE joined to arrays of the page's owners,
// expected keys and replacements, whose WHERE clause is the compare-and-set. Each call is its own
// short read-committed transaction, so audit's inserts and reads never wait for a rotation.

#include "common/pg/database.h"
#include "services/audit/admin/data_key_store.h"

namespace klaxon::audit {

class PostgresDataKeys final : public DataKeyStore {
 public:
  // `db` is borrowed and must outlive the store.
  explicit PostgresDataKeys(pg::Database& db) : db_(db) {}

  absl::StatusOr<std::vector<StoredDataKey>> KeysNotUnder(uint32_t version,
                                                          std::string_view after_owner,
                                                          size_t limit) override;
  absl::StatusOr<size_t> ReplaceIfUnchanged(const std::vector<DataKeyUpdate>& updates) override;
  absl::StatusOr<std::map<uint32_t, int64_t>> CountByVersion() override;

 private:
  pg::Database& db_;
};

}  // namespace klaxon::audit
