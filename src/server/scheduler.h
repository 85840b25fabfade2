// The scheduler: one thread owns every slot (a Session each, so its own KV
// cache) and, step after step, (1) admits queued jobs into free slots,
// (2) evaluates one chunk of one admitted prompt (chunked prefill: a long
// prompt is spread over many steps, sized so the other streams' next token
// is delayed by at most about one decode step), (3) samples the next token
// of every decoding slot and hands its text to the job, (4) evaluates those
// tokens together with one decode_batch call. An embedding job (JobSpec::
// embed) is prefilled the same way, from an empty cache and without logits,
// its hidden states mean-pooled chunk by chunk; it ends when its last chunk ran. HTTP threads never touch a Session:
// they submit Jobs and read their output through the Job's own lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hy2bit/embedding.h"
#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "hy2bit/model.h"
#include "server/api_error.h"
#include "server/logprobs.h"
#include "server/metrics.h"

namespace hy2bit::server {

// What one job asks for: a prompt (token ids) and how to continue it.
struct JobSpec {
  std::vector<int32_t> prompt;  // 1..n_ctx-1 tokens (embed: 1..n_ctx), ids valid
  bool embed = false;           // an embedding of the prompt instead of a reply (options unused)
  bool normalize = true;        // embed: L2-normalise it
  GenerateOptions options;      // max_tokens 0: no reply, only the prompt's log-probabilities
  int32_t prompt_logprobs = -1; // -1: none; N >= 0: log p of each prompt token after the first, with the top N
  int32_t logprobs = -1;        // -1: none; N >= 0: log p of each generated token, with the top N
};

// Output the scheduler produced since the HTTP thread last looked.
struct JobUpdate {
  std::vector<TokenLogprob> prompt_logprobs;  // when asked: prompt tokens 1..n-1, before any reply text
  std::string text;                      // reply text (complete UTF-8, stop strings held back)
  std::vector<TokenLogprob> logprobs;    // of the tokens sampled since (when asked); an end
                                         // token is included, though it adds no text
  bool done = false;                     // the job is over; the fields below are final
  std::optional<ApiError> error;         // the job failed (or the server is stopping)
  GenerateResult result;                 // counts and finish reason (result.text: the whole reply)
  std::vector<float> embedding;          // embed jobs: n_embd floats, set with done

  bool empty() const { return !done && text.empty() && logprobs.empty() && prompt_logprobs.empty(); }
};

class Job {
 public:
  explicit Job(JobSpec spec) : spec_(std::move(spec)) {}
  const JobSpec& spec() const { return spec_; }

  // HTTP side: waits up to `timeout` for output and takes all of it (an
  // empty update with done == false when nothing came). After the update
  // with done == true, nothing more arrives.
  JobUpdate take(std::chrono::milliseconds timeout);
  bool cancelled() const { return cancelled_.load(); }

  // Scheduler side.
  void mark_cancelled() { cancelled_.store(true); }
  void set_prompt_logprobs(std::vector<TokenLogprob> prompt_logprobs);
  void append(std::string_view text, std::optional<TokenLogprob> logprob);
  void finish(const GenerateResult& result);
  void finish_embedding(std::vector<float> embedding);
  void fail(ApiError error);

 private:
  const JobSpec spec_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable ready_;
  JobUpdate pending_;  // accumulates until take()
};

struct SchedulerOptions {
  int n_slots = 1;          // sessions decoded together
  int max_waiting = 0;      // requests that may wait for a slot beyond the n_slots running
  int64_t n_ctx = 4096;     // per slot
  int64_t n_batch = 512;
  CacheType cache_type = CacheType::kF16;
  bool chunked_prefill = true;  // false: a prompt runs whole when admitted (the other streams wait)
};

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> create(std::shared_ptr<const Model> model,
                                                   const SchedulerOptions& options, Metrics& metrics);
  ~Scheduler();  // stop()

  enum class Admission { kQueued, kFull, kStopping };
  // Queues the jobs of one request (several for a multi-prompt completion;
  // they count as one request against the limit and spread over free slots).
  Admission submit(const std::vector<std::shared_ptr<Job>>& jobs);
  // Asks for a job to stop (its client went away); it finishes as kCancelled.
  void cancel(const std::shared_ptr<Job>& job);
  // Fails every queued and running job with 503 and joins the thread.
  void stop();

  int64_t n_ctx() const { return options_.n_ctx; }
  int n_slots() const { return options_.n_slots; }

 private:
  // One request's jobs; those before `next` have been admitted.
  struct Group {
    std::vector<std::shared_ptr<Job>> jobs;
    size_t next = 0;
    size_t unfinished = 0;
  };
  struct Slot {
    std::unique_ptr<Session> session;
    std::shared_ptr<Job> job;                  // null: the slot is free
    std::shared_ptr<Group> group;
    std::unique_ptr<Generation> generation;
    std::vector<float> first_logits;           // n_vocab: what the first token is sampled from (logprobs only)
    std::span<const float> logits;             // what the next token is sampled from (logprobs only)
    std::optional<MeanPool> embedding;         // embed jobs: the hidden states pooled so far
    int64_t prefilled = -1;                    // >= 0: prompt tokens in the cache so far, the reply not started
    uint64_t admitted = 0;                     // admission order (prefill goes first come, first served)
  };

  Scheduler(std::shared_ptr<const Model> model, const SchedulerOptions& options, Metrics& metrics);
  void run();
  void admit_locked(std::vector<Slot*>& admitted);
  void purge_cancelled_locked();
  Slot* pick_slot(const std::vector<int32_t>& prompt);
  void start_job(Slot& slot);
  void finish_embedding(Slot& slot);
  Status eval_prompt_for_logprobs(Slot& slot);
  int32_t likeliest_end_token(std::span<const float> logits) const;
  void step();
  void prefill_step();
  int64_t prefill_chunk() const;
  void start_reply(Slot& slot);
  void release(Slot& slot);
  void fail(Slot& slot, ApiError error);
  void job_done(Group& group);
  void fail_everything(const ApiError& error);

  std::shared_ptr<const Model> model_;
  const SchedulerOptions options_;
  Metrics& metrics_;
  int64_t n_vocab_ = 0;
  std::vector<int32_t> end_tokens_;  // ids that end a reply (EOS, end of turn)
  std::vector<Slot> slots_;      // touched only by the scheduler thread
  int n_busy_ = 0;               // slots with a job; scheduler thread only
  uint64_t n_admitted_ = 0;      // jobs admitted so far; scheduler thread only
  double decode_step_s_ = 0;     // recent decode step time (moving average); 0: none yet
  double prefill_token_s_ = 0;   // recent prompt time per token (moving average); 0: none yet

  std::mutex mutex_;             // guards everything below
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Group>> queue_;
  int in_flight_ = 0;            // requests queued or running
  bool cancel_pending_ = false;  // a queued job may have been cancelled
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hy2bit::server
