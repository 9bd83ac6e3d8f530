#pragma once
// Twilio's request signature (X-Twilio-Signature): the computation shared by the webhook
// validator in ingress, klaxonctl's sign/verify commands and the sandbox that signs its status
// callbacks. The rules are those of ../shared/twilio/TWILIO.md; URL variants (ports, bodySHA256)
// are the validator's business, this unit only signs one URL and one parameter list.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace klaxon::twilio {

// Decoded form parameters in the order received. Keys may repeat.
using FormParams = std::vector<std::pair<std::string, std::string>>;

// Returns base64(HMAC-SHA1(auth_token, url + key/value pairs)), 28 characters. Keys are sorted
// by byte value; a repeated key contributes one key+value per distinct value, values sorted and
// duplicates dropped; empty values count. `url` is used exactly as given.
std::string ComputeSignature(std::string_view auth_token, std::string_view url,
                             const FormParams& params);

// Compares a computed signature with a received one in time independent of where they differ.
bool SignatureMatches(std::string_view expected, std::string_view received);

}  // namespace klaxon::twilio
