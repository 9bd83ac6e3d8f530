#include "services/ingress/client_address.h"

#include <string>

#include "gtest/gtest.h"

namespace klaxon::ingress {
namespace {

TrustedProxies Proxies(std::string_view list) {
  absl::StatusOr<TrustedProxies> proxies = TrustedProxies::Parse(list);
  EXPECT_TRUE(proxies.ok()) << proxies.status();
  return proxies.ok() ? *proxies : TrustedProxies();
}

TEST(IpRangeTest, ParsesV4AndV6RangesAndSingleAddresses) {
  const TrustedProxies proxies = Proxies(" 10.0.0.0/8, 192.168.1.7 ,2001:db8::/32");
  EXPECT_TRUE(proxies.Trusts("10.200.3.4"));
  EXPECT_TRUE(proxies.Trusts("192.168.1.7"));
  EXPECT_FALSE(proxies.Trusts("192.168.1.8"));
  EXPECT_TRUE(proxies.Trusts("2001:db8:ffff::1"));
  EXPECT_FALSE(proxies.Trusts("2001:db9::1"));
  EXPECT_TRUE(proxies.Trusts("::ffff:10.1.1.1")) << "an IPv4-mapped address is its IPv4 address";
  EXPECT_FALSE(proxies.Trusts("not an address"));
}

TEST(IpRangeTest, RefusesBadRanges) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.1/8", "10.0.0.0/", "10.0.0.0/x", "300.1.1.1",
                          "host.example.com", "2001:db8::/129", "10.0.0.0/-1"}) {
    EXPECT_FALSE(TrustedProxies::Parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(Proxies("").empty());
  EXPECT_TRUE(TrustedProxies::Parse("0.0.0.0/0").ok());
}

TEST(IpAddressTest, KnowsLoopbackAddresses) {
  for (const char* loopback : {"127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IpAddress::Parse(loopback)->IsLoopback()) << loopback;
  }
  for (const char* other : {"0.0.0.0", "10.0.0.1", "::", "::2", "2001:db8::1"}) {
    EXPECT_FALSE(IpAddress::Parse(other)->IsLoopback()) << other;
  }
}

TEST(ClientAddressTest, IgnoresForwardedForFromAnUntrustedPeer) {
  EXPECT_EQ(Proxies("").ClientAddress("203.0.113.9", "1.2.3.4"), "203.0.113.9");
  EXPECT_EQ(Proxies("10.0.0.0/8").ClientAddress("203.0.113.9", "1.2.3.4"), "203.0.113.9");
}

TEST(ClientAddressTest, TakesTheRightmostUntrustedHopBehindTrustedProxies) {
  const TrustedProxies proxies = Proxies("10.0.0.0/8");
  // The client wrote "6.6.6.6" itself; the proxies appended 198.51.100.4 and 10.0.0.5.
  EXPECT_EQ(proxies.ClientAddress("10.0.0.1", "6.6.6.6, 198.51.100.4, 10.0.0.5"), "198.51.100.4");
  EXPECT_EQ(proxies.ClientAddress("10.0.0.1", "[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(proxies.ClientAddress("10.0.0.1", std::nullopt), "10.0.0.1");
}

TEST(ClientAddressTest, GarbageEndsTheWalkAtTheHopThatForwardedIt) {
  const TrustedProxies proxies = Proxies("10.0.0.0/8");
  EXPECT_EQ(proxies.ClientAddress("10.0.0.1", "198.51.100.4, <script>"), "10.0.0.1");
  EXPECT_EQ(proxies.ClientAddress("10.0.0.1", "garbage, 10.0.0.9"), "10.0.0.9");
  EXPECT_EQ(proxies.ClientAddress("10.0.0.1", std::string(10'000, ',')), "10.0.0.1");
  EXPECT_EQ(proxies.ClientAddress("10.0.0.1", ""), "10.0.0.1");
}

TEST(ClientAddressTest, AnswersCanonicalAddresses) {
  const TrustedProxies proxies = Proxies("10.0.0.0/8");
  EXPECT_EQ(proxies.ClientAddress("10.0.0.1", "2001:DB8:0:0::1"), "2001:db8::1");
  EXPECT_EQ(proxies.ClientAddress("10.0.0.1", "::ffff:198.51.100.4"), "198.51.100.4");
  EXPECT_EQ(proxies.ClientAddress("::ffff:203.0.113.9", "1.2.3.4"), "203.0.113.9");
}

}  // namespace
}  // namespace klaxon::ingress
