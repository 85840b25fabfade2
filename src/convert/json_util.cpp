// Strict JSON parsing (duplicate keys are errors) and typed member reads for
// the Hugging Face files. nlohmann-json is used with exceptions off: parse
// errors come back as a discarded value, and the typed reads check types
// before they convert, so nothing here throws.
#include "convert/json_util.h"

#include <set>
#include <vector>

namespace hy2bit::convert {

Result<Json> parse_json(std::string_view text, std::string_view what) {
  // One set of keys per open object, innermost last.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto check_keys = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get_ref<const std::string&>()).second && duplicate.empty())
          duplicate = parsed.get_ref<const std::string&>();
        break;
      default:
        break;
    }
    return true;
  };
  Json value = Json::parse(text.begin(), text.end(), check_keys, /*allow_exceptions=*/false);
  if (value.is_discarded())
    return make_error(what, ": not valid JSON (or not UTF-8)");
  if (!duplicate.empty()) return make_error(what, ": key \"", duplicate, "\" occurs twice in one object");
  return value;
}

namespace {

const Json* member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

Error wrong_type(std::string_view what, const char* key, const char* expected) {
  return make_error(what, ": \"", key, "\" must be ", expected);
}

}  // namespace

Result<std::optional<int64_t>> optional_int(const Json& object, const char* key, std::string_view what) {
  const Json* v = member(object, key);
  if (v == nullptr || v->is_null()) return std::optional<int64_t>{};
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return make_error(what, ": \"", key, "\" is too large");
    return std::optional<int64_t>{static_cast<int64_t>(u)};
  }
  if (v->is_number_integer()) return std::optional<int64_t>{v->get<int64_t>()};
  return wrong_type(what, key, "an integer");
}

Result<std::optional<double>> optional_number(const Json& object, const char* key, std::string_view what) {
  const Json* v = member(object, key);
  if (v == nullptr || v->is_null()) return std::optional<double>{};
  if (!v->is_number()) return wrong_type(what, key, "a number");
  return std::optional<double>{v->get<double>()};
}

Result<std::optional<bool>> optional_bool(const Json& object, const char* key, std::string_view what) {
  const Json* v = member(object, key);
  if (v == nullptr || v->is_null()) return std::optional<bool>{};
  if (!v->is_boolean()) return wrong_type(what, key, "true or false");
  return std::optional<bool>{v->get<bool>()};
}

Result<std::optional<std::string>> optional_string(const Json& object, const char* key, std::string_view what) {
  const Json* v = member(object, key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>{};
  if (!v->is_string()) return wrong_type(what, key, "a string");
  return std::optional<std::string>{v->get<std::string>()};
}

Result<int64_t> required_int(const Json& object, const char* key, std::string_view what) {
  Result<std::optional<int64_t>> v = optional_int(object, key, what);
  if (!v) return v.error();
  if (!*v) return make_error(what, ": missing \"", key, "\"");
  return **v;
}

Result<double> required_number(const Json& object, const char* key, std::string_view what) {
  Result<std::optional<double>> v = optional_number(object, key, what);
  if (!v) return v.error();
  if (!*v) return make_error(what, ": missing \"", key, "\"");
  return **v;
}

}  // namespace hy2bit::convert
