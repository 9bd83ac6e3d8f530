#pragma once
// Audit's schema, compiled into its binaries from services/audit/postgres/migrations/*.sql (see
// klaxon_embed_migrations) with their inverses from migrations/down/, so klaxon-audit and
// klaxon-audit-admin need no files at run time.

#include <vector>

#include "common/pg/migrations.h"

namespace klaxon::audit {

std::vector<pg::Migration> AuditMigrations();

}  // namespace klaxon::audit
