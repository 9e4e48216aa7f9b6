// Entry point for `npm run test:unit`: node's test runner runs every test these files register.
import "./manifest.test";
import "./config-vars.test";
import "./download.test";
import "./extract.test";
import "./layer-toml.test";
import "./vendor-recipe.test";
import "./sbom.test";
import "./advisories.test";
