// The scheduler thread: slots, the bounded queue and batched decoding. Only
// this thread calls Session::eval, Generation::* and decode_batch (a
// model's sessions share one thread pool). A prompt is evaluated a chunk
// per step between decode steps, so a long prompt delays the other slots'
// next token by one chunk's time, not its whole prefill time.
#include "server/scheduler.h"

#include <algorithm>
#include <limits>

#include "runtime/clock.h"

namespace hy2bit::server {
namespace {
using runtime::seconds_since;

// Prompt positions per forward pass when every position's logits are
// needed: chunk x n_vocab floats (32 x 120818 x 4 B = 15 MB for HY-1.8B).
constexpr int64_t kLogprobChunk = 32;

// Chunked prefill: a chunk may take about this many decode steps' time
// (the other streams then see one gap of ~2.5 steps at worst), and never
// fewer than kMinPrefillChunk tokens, so a prompt always makes progress.
constexpr double kPrefillBudgetSteps = 1.5;
constexpr int64_t kMinPrefillChunk = 8;
constexpr double kAverageWeight = 0.2;  // of the newest sample in the moving averages

void update_average(double& average, double sample) {
  average = average == 0 ? sample : average + kAverageWeight * (sample - average);
}

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

// ---- Job -------------------------------------------------------------------

JobUpdate Job::take(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !pending_.empty(); });
  JobUpdate out = std::move(pending_);
  pending_ = JobUpdate{};
  pending_.done = out.done;  // stays done; later takes return done with nothing else
  return out;
}

void Job::append(std::string_view text, std::optional<TokenLogprob> logprob) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.text += text;
    if (logprob) pending_.logprobs.push_back(std::move(*logprob));
  }
  ready_.notify_all();
}

void Job::set_prompt_logprobs(std::vector<TokenLogprob> prompt_logprobs) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.prompt_logprobs = std::move(prompt_logprobs);
  }
  ready_.notify_all();
}

void Job::finish(const GenerateResult& result) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.done = true;
    pending_.result = result;
  }
  ready_.notify_all();
}

void Job::finish_embedding(std::vector<float> embedding) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.done = true;
    pending_.embedding = std::move(embedding);
    pending_.result.n_prompt = static_cast<int64_t>(spec_.prompt.size());
  }
  ready_.notify_all();
}

void Job::fail(ApiError error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.done = true;
    pending_.error = std::move(error);
  }
  ready_.notify_all();
}

// ---- Scheduler: setup and the HTTP-facing calls ------------------------------

Scheduler::Scheduler(std::shared_ptr<const Model> model, const SchedulerOptions& options, Metrics& metrics)
    : model_(std::move(model)), options_(options), metrics_(metrics), n_vocab_(model_->summary().n_vocab) {
  for (int64_t id = 0; id < n_vocab_; ++id)
    if (is_end_of_generation(*model_, static_cast<int32_t>(id))) end_tokens_.push_back(static_cast<int32_t>(id));
}

Result<std::unique_ptr<Scheduler>> Scheduler::create(std::shared_ptr<const Model> model,
                                                     const SchedulerOptions& options, Metrics& metrics) {
  if (!model) return make_error("no model given to the scheduler");
  if (options.n_slots < 1) return make_error("parallel slots must be at least 1, got ", options.n_slots);
  if (options.max_waiting < 0) return make_error("queue length must be >= 0, got ", options.max_waiting);
  std::unique_ptr<Scheduler> s(new Scheduler(model, options, metrics));
  s->slots_.resize(static_cast<size_t>(options.n_slots));
  for (Slot& slot : s->slots_) {
    Result<std::unique_ptr<Session>> session =
        Session::create(model, {.n_ctx = options.n_ctx, .n_batch = options.n_batch, .cache_type = options.cache_type});
    if (!session) return session.error();
    slot.session = std::move(*session);
  }
  s->thread_ = std::thread([raw = s.get()] { raw->run(); });
  return s;
}

Scheduler::~Scheduler() { stop(); }

Scheduler::Admission Scheduler::submit(const std::vector<std::shared_ptr<Job>>& jobs) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return Admission::kStopping;
    if (in_flight_ >= options_.n_slots + options_.max_waiting) return Admission::kFull;
    auto group = std::make_shared<Group>();
    group->jobs = jobs;
    group->unfinished = jobs.size();
    queue_.push_back(std::move(group));
    ++in_flight_;
    metrics_.queue_depth.store(static_cast<int64_t>(queue_.size()));
  }
  wake_.notify_one();
  return Admission::kQueued;
}

void Scheduler::cancel(const std::shared_ptr<Job>& job) {
  job->mark_cancelled();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancel_pending_ = true;
  }
  wake_.notify_one();
}

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// ---- the scheduler thread --------------------------------------------------

void Scheduler::run() {
  for (;;) {
    std::vector<Slot*> admitted;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] {
        return stopping_ || cancel_pending_ || n_busy_ > 0 ||
               (!queue_.empty() && n_busy_ < options_.n_slots);
      });
      if (stopping_) break;
      purge_cancelled_locked();
      admit_locked(admitted);
      metrics_.queue_depth.store(static_cast<int64_t>(queue_.size()));
    }
    for (Slot* slot : admitted) start_job(*slot);
    metrics_.slots_busy.store(n_busy_);
    if (n_busy_ > 0) prefill_step();
    if (n_busy_ > 0) step();
    metrics_.slots_busy.store(n_busy_);
  }
  fail_everything(unavailable("the server is shutting down"));
  metrics_.slots_busy.store(0);
  metrics_.queue_depth.store(0);
}

// Drops queued jobs whose clients went away (they never reach a slot).
void Scheduler::purge_cancelled_locked() {
  cancel_pending_ = false;
  for (auto it = queue_.begin(); it != queue_.end();) {
    Group& group = **it;
    while (group.next < group.jobs.size() && group.jobs[group.next]->cancelled()) {
      std::shared_ptr<Job> job = group.jobs[group.next++];
      GenerateResult cancelled;
      cancelled.finish = FinishReason::kCancelled;
      cancelled.n_prompt = static_cast<int64_t>(job->spec().prompt.size());
      job->finish(cancelled);
      metrics_.requests_cancelled.fetch_add(1);
      if (--group.unfinished == 0) --in_flight_;
    }
    it = group.next == group.jobs.size() ? queue_.erase(it) : std::next(it);
  }
}

// Moves jobs from the head of the queue into free slots.
void Scheduler::admit_locked(std::vector<Slot*>& admitted) {
  while (!queue_.empty() && n_busy_ < options_.n_slots) {
    std::shared_ptr<Group> group = queue_.front();
    std::shared_ptr<Job> job = group->jobs[group->next++];
    if (group->next == group->jobs.size()) queue_.pop_front();
    Slot* slot = pick_slot(job->spec().prompt);
    slot->admitted = n_admitted_++;
    slot->job = std::move(job);
    slot->group = std::move(group);
    ++n_busy_;
    admitted.push_back(slot);
  }
}

// The free slot whose KV cache shares the longest prefix with the prompt
// (a chat's next turn lands where its history already is).
Scheduler::Slot* Scheduler::pick_slot(const std::vector<int32_t>& prompt) {
  Slot* best = nullptr;
  size_t best_shared = 0;
  for (Slot& slot : slots_) {
    if (slot.job) continue;
    const size_t shared = common_prefix(slot.session->tokens(), prompt);
    if (!best || shared > best_shared) {
      best = &slot;
      best_shared = shared;
    }
  }
  return best;
}

// Runs the prompt with the logits of every position kept (echo logprobs) or
// of the last one only (logprobs of the reply), copying what is needed
// before Generation::start evaluates again.
Status Scheduler::eval_prompt_for_logprobs(Slot& slot) {
  const JobSpec& spec = slot.job->spec();
  Session& session = *slot.session;
  const std::span<const int32_t> prompt(spec.prompt);
  const auto n = static_cast<int64_t>(prompt.size());
  const auto n_vocab = static_cast<size_t>(n_vocab_);
  if (spec.prompt_logprobs < 0) {
    const auto cached = static_cast<int64_t>(std::min(common_prefix(session.tokens(), prompt), prompt.size() - 1));
    session.truncate(cached);
    Result<std::span<const float>> logits = session.eval(prompt.subspan(static_cast<size_t>(cached)));
    if (!logits) return logits.error();
    metrics_.prompt_tokens.fetch_add(n - cached);
    slot.first_logits.assign(logits->begin(), logits->end());
    return Ok{};
  }
  session.reset();
  std::vector<TokenLogprob> prompt_logprobs;
  prompt_logprobs.reserve(prompt.size());
  const int64_t chunk = std::max<int64_t>(1, std::min(kLogprobChunk, options_.n_batch));
  for (int64_t pos = 0; pos < n; pos += chunk) {
    const int64_t len = std::min(chunk, n - pos);
    Result<std::span<const float>> logits =
        session.eval(prompt.subspan(static_cast<size_t>(pos), static_cast<size_t>(len)), /*all_logits=*/true);
    if (!logits) return logits.error();
    for (int64_t i = 0; i < len; ++i) {
      // Row i predicts the token after position pos + i.
      const std::span<const float> row = logits->subspan(static_cast<size_t>(i) * n_vocab, n_vocab);
      const int64_t next = pos + i + 1;
      if (next < n) {
        prompt_logprobs.push_back(token_logprob(row, prompt[static_cast<size_t>(next)], spec.prompt_logprobs));
      } else if (spec.logprobs >= 0) {
        slot.first_logits.assign(row.begin(), row.end());
      }
    }
  }
  metrics_.prompt_tokens.fetch_add(n);
  slot.job->set_prompt_logprobs(std::move(prompt_logprobs));
  return Ok{};
}

// The end token a reply most likely ended with. Generation does not say
// which end token it sampled; a greedy reply ends with exactly this one.
int32_t Scheduler::likeliest_end_token(std::span<const float> logits) const {
  int32_t best = end_tokens_.empty() ? 0 : end_tokens_.front();
  for (int32_t id : end_tokens_)
    if (logits[static_cast<size_t>(id)] > logits[static_cast<size_t>(best)]) best = id;
  return best;
}

// An embedding job's last chunk ran: its pooled vector goes to the job. The
// cache keeps the input (a later prompt sharing its prefix may reuse it).
void Scheduler::finish_embedding(Slot& slot) {
  std::vector<float> embedding = slot.embedding->finish(slot.job->spec().normalize);
  metrics_.embeddings.fetch_add(1);
  std::shared_ptr<Job> job = slot.job;
  release(slot);
  job->finish_embedding(std::move(embedding));
}

void Scheduler::start_job(Slot& slot) {
  const JobSpec& spec = slot.job->spec();
  if (spec.embed) {  // every token's hidden state is needed: no cached prefix counts
    slot.session->reset();
    slot.embedding.emplace(model_->summary().n_embd);
    slot.prefilled = 0;
    return;
  }
  const bool reply = spec.options.max_tokens != 0;
  if (spec.prompt_logprobs >= 0 || (spec.logprobs >= 0 && reply)) {
    Status evaluated = eval_prompt_for_logprobs(slot);
    if (!evaluated) {
      slot.session->reset();
      fail(slot, internal_error("evaluating the prompt failed: " + evaluated.error().message));
      return;
    }
  }
  if (!reply) {
    GenerateResult result;
    result.n_prompt = static_cast<int64_t>(spec.prompt.size());
    result.finish = FinishReason::kLength;
    std::shared_ptr<Job> job = slot.job;
    release(slot);
    job->finish(result);
    return;
  }
  if (spec.prompt_logprobs >= 0 || spec.logprobs >= 0) {
    start_reply(slot);  // the prompt is in the cache already
    return;
  }
  // The prompt runs in chunks from prefill_step(); the cached prefix counts as done.
  const std::span<const int32_t> prompt(spec.prompt);
  const size_t cached = std::min(common_prefix(slot.session->tokens(), prompt), prompt.size() - 1);
  slot.session->truncate(static_cast<int64_t>(cached));
  slot.prefilled = static_cast<int64_t>(cached);
}

// Generation::start evaluates what of the prompt is not cached yet (after
// chunked prefill: its last token) and the reply can begin.
void Scheduler::start_reply(Slot& slot) {
  const JobSpec& spec = slot.job->spec();
  slot.prefilled = -1;
  Result<std::unique_ptr<Generation>> generation = Generation::start(*slot.session, spec.prompt, spec.options);
  if (!generation) {
    slot.session->reset();
    fail(slot, internal_error("starting the reply failed: " + generation.error().message));
    return;
  }
  metrics_.prompt_tokens.fetch_add((*generation)->result().n_prompt_evaluated);
  slot.generation = std::move(*generation);
  slot.logits = slot.first_logits;
}

// Prompt tokens for the next chunk: what fits in the time budget given the
// recent decode step and per-token prompt times; a whole batch when no
// other slot is decoding (nobody waits) or before anything was measured.
int64_t Scheduler::prefill_chunk() const {
  const bool others_decoding =
      std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.job && s.generation; });
  if (!options_.chunked_prefill) return std::numeric_limits<int64_t>::max();
  if (!others_decoding || decode_step_s_ == 0 || prefill_token_s_ == 0) return options_.n_batch;
  const auto fit = static_cast<int64_t>(kPrefillBudgetSteps * decode_step_s_ / prefill_token_s_);
  return std::clamp<int64_t>(fit, std::min(kMinPrefillChunk, options_.n_batch), options_.n_batch);
}

// Evaluates one chunk of the earliest admitted prompt still being prefilled;
// its last token is left to Generation::start (start_reply). An embedding
// job's chunks give hidden states instead of logits, all tokens included.
void Scheduler::prefill_step() {
  Slot* slot = nullptr;
  for (Slot& s : slots_)
    if (s.job && s.prefilled >= 0 && (!slot || s.admitted < slot->admitted)) slot = &s;
  if (!slot) return;
  if (slot->job->cancelled()) {
    GenerateResult cancelled;
    cancelled.finish = FinishReason::kCancelled;
    cancelled.n_prompt = static_cast<int64_t>(slot->job->spec().prompt.size());
    std::shared_ptr<Job> job = slot->job;
    slot->prefilled = -1;
    metrics_.requests_cancelled.fetch_add(1);
    release(*slot);
    job->finish(cancelled);
    return;
  }
  const std::span<const int32_t> prompt(slot->job->spec().prompt);
  const bool embedding = slot->job->spec().embed;
  // Tokens to prefill before start_reply (an embedding: all of them).
  const int64_t last = static_cast<int64_t>(prompt.size()) - (embedding ? 0 : 1);
  const int64_t len = std::min(prefill_chunk(), last - slot->prefilled);
  if (len > 0) {
    const auto start = std::chrono::steady_clock::now();
    const std::span<const int32_t> chunk = prompt.subspan(static_cast<size_t>(slot->prefilled), static_cast<size_t>(len));
    Result<std::span<const float>> evaluated = embedding ? slot->session->eval_hidden(chunk) : slot->session->eval(chunk);
    if (!evaluated) {
      slot->prefilled = -1;
      slot->session->reset();
      fail(*slot, internal_error("evaluating the prompt failed: " + evaluated.error().message));
      return;
    }
    update_average(prefill_token_s_, seconds_since(start) / static_cast<double>(len));
    metrics_.prompt_tokens.fetch_add(len);
    if (embedding) slot->embedding->add(*evaluated);
    slot->prefilled += len;
  }
  if (slot->prefilled < last) return;
  if (embedding) finish_embedding(*slot);
  else start_reply(*slot);
}

// One decode step: sample every decoding slot, then evaluate the sampled
// tokens of those still going in one batched forward pass.
void Scheduler::step() {
  std::vector<BatchStep> batch;
  std::vector<Slot*> stepping;
  int64_t sampled = 0;
  for (Slot& slot : slots_) {
    if (!slot.job || !slot.generation) continue;  // free, or its prompt is still being prefilled
    Generation& g = *slot.generation;
    if (slot.job->cancelled()) {
      g.cancel();
      release(slot);
      continue;
    }
    const size_t before = g.result().tokens.size();
    std::string piece = g.sample();
    std::optional<TokenLogprob> logprob;
    const int32_t logprobs = slot.job->spec().logprobs;
    if (g.result().tokens.size() > before) {
      ++sampled;
      metrics_.generated_tokens.fetch_add(1);
      if (logprobs >= 0 && !slot.logits.empty()) logprob = token_logprob(slot.logits, g.result().tokens.back(), logprobs);
    } else if (logprobs >= 0 && !slot.logits.empty() && g.finished() && g.result().finish == FinishReason::kStop &&
               !end_tokens_.empty()) {
      // No token added but finished by stopping: an end token was sampled.
      // It is reported too (as vLLM does), so prompt + reply log-probabilities
      // always cover max_tokens positions when the reply ends early.
      logprob = token_logprob(slot.logits, likeliest_end_token(slot.logits), logprobs);
    }
    if (!piece.empty() || logprob) slot.job->append(piece, std::move(logprob));
    if (g.finished()) {
      release(slot);
      continue;
    }
    batch.push_back({slot.session.get(), g.pending_token()});
    stepping.push_back(&slot);
  }
  if (sampled > 0) metrics_.record_decoded(sampled);
  if (batch.empty()) return;

  const auto start = std::chrono::steady_clock::now();
  Result<std::vector<std::span<const float>>> logits = decode_batch(batch);
  update_average(decode_step_s_, seconds_since(start));
  metrics_.decode_steps.fetch_add(1);
  for (size_t i = 0; i < stepping.size(); ++i) {
    Slot& slot = *stepping[i];
    if (!logits) {
      slot.generation.reset();
      slot.session->reset();
      fail(slot, internal_error("decoding failed: " + logits.error().message));
      continue;
    }
    slot.generation->accept_logits((*logits)[i]);
    slot.logits = (*logits)[i];
  }
}

// Frees the slot, then ends its job with its result (unless it already
// failed). The counts and the request limit are updated first, so a client
// that reads /metrics or sends its next request right after its reply sees
// them settled.
void Scheduler::release(Slot& slot) {
  std::shared_ptr<Job> job = std::move(slot.job);
  std::shared_ptr<Group> group = std::move(slot.group);
  std::optional<GenerateResult> result;
  if (slot.generation) {
    result = slot.generation->result();
    if (result->finish == FinishReason::kCancelled) metrics_.requests_cancelled.fetch_add(1);
  }
  slot.generation.reset();
  slot.embedding.reset();
  slot.prefilled = -1;
  slot.first_logits.clear();
  slot.logits = {};
  --n_busy_;
  metrics_.slots_busy.store(n_busy_);
  if (group) job_done(*group);
  if (result) job->finish(*result);
}

void Scheduler::fail(Slot& slot, ApiError error) {
  slot.generation.reset();
  std::shared_ptr<Job> job = slot.job;
  release(slot);
  job->fail(std::move(error));
}

void Scheduler::job_done(Group& group) {
  if (--group.unfinished > 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  --in_flight_;
}

void Scheduler::fail_everything(const ApiError& error) {
  for (Slot& slot : slots_)
    if (slot.job) fail(slot, error);
  std::lock_guard<std::mutex> lock(mutex_);
  for (const std::shared_ptr<Group>& group : queue_)
    for (size_t i = group->next; i < group->jobs.size(); ++i) group->jobs[i]->fail(error);
  queue_.clear();
  in_flight_ = 0;
}

}  // namespace hy2bit::server
