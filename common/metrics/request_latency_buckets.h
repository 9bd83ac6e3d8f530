#pragma once
// The histogram buckets of every request latency Klaxon reports (webhooks, the HTTP/JSON API),
// from half a millisecond to ten seconds, so dashboards compare like with like.

#include <prometheus/histogram.h>

namespace klaxon::metrics {

inline const prometheus::Histogram::BucketBoundaries& RequestLatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return buckets;
}

}  // namespace klaxon::metrics
