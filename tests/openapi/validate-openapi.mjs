// Validates an OpenAPI document with @apidevtools/swagger-parser (tests/openapi/
// install-validator.sh): against the OpenAPI 3.0 specification's JSON Schema, with every $ref
// resolved.
//   KLAXON_OPENAPI_VALIDATOR_MODULES=<node_modules> node validate-openapi.mjs DOCUMENT.json
// Prints what is wrong and exits 1, or prints the API's title and operation count.
import { join } from "node:path";

const modules = process.env.KLAXON_OPENAPI_VALIDATOR_MODULES;
if (!modules) {
  throw new Error("KLAXON_OPENAPI_VALIDATOR_MODULES (tests/openapi/install-validator.sh) is unset");
}
const { default: SwaggerParser } = await import(
  join(modules, "@apidevtools/swagger-parser/lib/index.js"));

const file = process.argv[2];
try {
  const api = await SwaggerParser.validate(file);
  const operations = Object.values(api.paths).reduce(
    (count, item) => count + Object.keys(item).length, 0);
  console.log(`valid: ${api.info.title} ${api.info.version}, ${operations} operations`);
} catch (error) {
  console.error(`invalid OpenAPI document ${file}: ${error.message}`);
  process.exit(1);
}
