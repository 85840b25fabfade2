// ollama response shapes (docs/api.md of github.com/ollama/ollama): fields
// ollama clients read are always present; thinking and tool_calls appear
// only when the reply has them, as ollama sends them.
#include "server/ollama_responses.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <utility>

namespace hy2bit::server::ollama {

using nlohmann::json;

// ---- reply text -> pieces -------------------------------------------------

ReplyDecoder::ReplyDecoder(Options options) : options_(std::move(options)) {
  if (options_.parse_tool_calls) tools_ = std::make_unique<ToolCallParser>(options_.call_id_prefix);
}

void ReplyDecoder::add_calls(ReplyPiece& out, ToolCallParser::Update update) {
  out.content += update.content;
  for (ToolCall& c : update.calls) out.calls.push_back(std::move(c));
}

void ReplyDecoder::add(ReplyPiece& out, const std::vector<ReplySegment>& segments) {
  for (const ReplySegment& s : segments) {
    if (s.part == ReplyPart::kThinking) out.thinking += s.text;
    else if (tools_) add_calls(out, tools_->push(s.text));
    else out.content += s.text;
  }
}

ReplyPiece ReplyDecoder::push(std::string_view text) {
  ReplyPiece out;
  if (options_.split_thinking) add(out, splitter_.push(text));
  else add(out, {{ReplyPart::kAnswer, std::string(text)}});
  return out;
}

ReplyPiece ReplyDecoder::finish() {
  ReplyPiece out;
  if (options_.split_thinking) add(out, splitter_.finish());
  if (tools_) add_calls(out, tools_->finish());
  return out;
}

// ---- reply objects -----------------------------------------------------------

namespace {

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const auto since_epoch = t.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count();
  const std::time_t tt = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&tt, &utc);
  char text[48];
  const size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof(text) - n, ".%09lldZ", static_cast<long long>(nanos));
  return text;
}

const char* done_reason(FinishReason reason) {
  return reason == FinishReason::kStop || reason == FinishReason::kCancelled ? "stop" : "length";
}

int64_t to_ns(double seconds) { return static_cast<int64_t>(seconds * 1e9); }

}  // namespace

std::string now_rfc3339() { return rfc3339(std::chrono::system_clock::now()); }

nlohmann::json tool_calls_json(const std::vector<ToolCall>& calls, size_t first_index) {
  json out = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    // The parser only returns calls whose arguments are a JSON object.
    json arguments = json::parse(calls[i].arguments, nullptr, /*allow_exceptions=*/false);
    if (!arguments.is_object()) arguments = json::object();
    out.push_back({{"id", calls[i].id},
                   {"function", {{"index", first_index + i}, {"name", calls[i].name}, {"arguments", std::move(arguments)}}}});
  }
  return out;
}

nlohmann::json piece_json(Endpoint endpoint, const std::string& model, const ReplyPiece& piece) {
  json out = {{"model", model}, {"created_at", now_rfc3339()}};
  if (endpoint == Endpoint::kChat) {
    json message = {{"role", "assistant"}, {"content", piece.content}};
    if (!piece.thinking.empty()) message["thinking"] = piece.thinking;
    if (!piece.calls.empty()) message["tool_calls"] = tool_calls_json(piece.calls, 0);
    out["message"] = std::move(message);
  } else {
    out["response"] = piece.content;
    if (!piece.thinking.empty()) out["thinking"] = piece.thinking;
  }
  out["done"] = false;
  return out;
}

nlohmann::json final_json(Endpoint endpoint, const std::string& model, const ReplyPiece& piece,
                          const GenerateResult& result, int64_t total_ns) {
  json out = piece_json(endpoint, model, piece);
  out["done"] = true;
  out["done_reason"] = done_reason(result.finish);
  out["total_duration"] = total_ns;
  out["load_duration"] = 0;  // the model is loaded once, when the server starts
  out["prompt_eval_count"] = result.n_prompt;
  out["prompt_eval_duration"] = to_ns(result.prompt_seconds);
  out["eval_count"] = static_cast<int64_t>(result.tokens.size());
  out["eval_duration"] = to_ns(result.generate_seconds);
  return out;
}

// ---- the model ---------------------------------------------------------------

namespace {

// "1.8B", "350M", "12K" (ollama's parameter_size).
std::string parameter_size(uint64_t n) {
  char text[32];
  if (n >= 1000000000ull) std::snprintf(text, sizeof(text), "%.1fB", static_cast<double>(n) / 1e9);
  else if (n >= 1000000ull) std::snprintf(text, sizeof(text), "%.0fM", static_cast<double>(n) / 1e6);
  else std::snprintf(text, sizeof(text), "%.0fK", static_cast<double>(n) / 1e3);
  return text;
}

uint64_t fnv1a(std::string_view text, uint64_t h = 0xcbf29ce484222325ull) {
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

}  // namespace

ModelCard model_card(const Model& model, const std::string& model_id) {
  const ModelSummary& s = model.summary();
  ModelCard card;
  card.summary = &s;
  card.name = model_id.find(':') == std::string::npos ? model_id + ":latest" : model_id;
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(s.path, ec);
  const auto when = ec ? std::chrono::system_clock::now()
                       : std::chrono::time_point_cast<std::chrono::system_clock::duration>(
                             std::chrono::file_clock::to_sys(mtime));
  card.modified_at = rfc3339(when);
  char digest[40];
  const uint64_t h = fnv1a(card.modified_at, fnv1a(std::to_string(s.file_bytes), fnv1a(card.name)));
  std::snprintf(digest, sizeof(digest), "%016llx%016llx", static_cast<unsigned long long>(h),
                static_cast<unsigned long long>(fnv1a(s.path, h)));
  card.digest = digest;
  return card;
}

nlohmann::json details_json(const ModelSummary& s) {
  std::string quantization = s.weight_types;
  std::transform(quantization.begin(), quantization.end(), quantization.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return json{{"parent_model", ""},
              {"format", "gguf"},
              {"family", s.architecture},
              {"families", json::array({s.architecture})},
              {"parameter_size", parameter_size(s.n_params)},
              {"quantization_level", quantization}};
}

nlohmann::json tags_entry_json(const ModelCard& card) {
  return json{{"name", card.name},
              {"model", card.name},
              {"modified_at", card.modified_at},
              {"size", card.summary->file_bytes},
              {"digest", card.digest},
              {"details", details_json(*card.summary)}};
}

nlohmann::json ps_entry_json(const ModelCard& card, int64_t n_ctx) {
  json entry = tags_entry_json(card);
  entry.erase("modified_at");
  entry["size"] = card.summary->weight_bytes + card.summary->repacked_bytes;  // resident weights
  entry["size_vram"] = 0;                                                     // CPU only
  entry["expires_at"] = "9999-12-31T23:59:59Z";  // never unloaded while the server runs
  entry["context_length"] = n_ctx;
  return entry;
}

nlohmann::json show_json(const ModelCard& card, const SamplingOptions& d, int64_t n_ctx) {
  const ModelSummary& s = *card.summary;
  char parameters[256];
  std::snprintf(parameters, sizeof(parameters),
                "temperature %g\ntop_k %d\ntop_p %g\nmin_p %g\nrepeat_penalty %g\nrepeat_last_n %d\nnum_ctx %lld",
                static_cast<double>(d.temperature), d.top_k, static_cast<double>(d.top_p),
                static_cast<double>(d.min_p), static_cast<double>(d.repeat_penalty), d.repeat_last_n,
                static_cast<long long>(n_ctx));
  const std::string& arch = s.architecture;
  json info = {{"general.architecture", arch},
               {"general.name", s.name},
               {"general.parameter_count", s.n_params},
               {arch + ".context_length", s.n_ctx_train},
               {arch + ".embedding_length", s.n_embd},
               {arch + ".block_count", s.n_layer},
               {arch + ".feed_forward_length", s.n_ff},
               {arch + ".attention.head_count", s.n_head},
               {arch + ".attention.head_count_kv", s.n_head_kv},
               {arch + ".attention.key_length", s.head_dim},
               {arch + ".vocab_size", s.n_vocab}};
  return json{{"modelfile", ""},
              {"parameters", parameters},
              {"details", details_json(s)},
              {"model_info", std::move(info)},
              {"capabilities", json::array({"completion", "tools", "thinking"})},
              {"modified_at", card.modified_at}};
}

}  // namespace hy2bit::server::ollama
