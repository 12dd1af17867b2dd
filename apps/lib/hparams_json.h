// Hyperparameters as JSON values, for the records that store them (the run directory's
// run_config.json, the config record of the bundles and TF.js exports we write).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "models/hparams.h"

namespace melody {

// int, float, bool or a list of ints as the matching JSON value.
nlohmann::json HParamToJson(const HParamValue& value);

// A JSON value read with the type of `like` (the config's own value) when given, else by
// its JSON type. Throws melody::Error naming `what` when the value has the wrong type.
HParamValue HParamFromJson(const nlohmann::json& j, const HParamValue* like,
                           const std::string& what);

}  // namespace melody
