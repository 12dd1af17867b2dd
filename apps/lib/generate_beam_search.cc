#include "apps/lib/generate_beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "core/error.h"
#include "core/parallel_for.h"
#include "core/philox.h"
#include "kernels/gather_rows.h"
#include "kernels/stream_ops.h"
#include "models/melody_rnn_generate.h"

namespace melody {

double PhiloxUniformDouble(uint64_t seed, uint32_t a, uint32_t b, uint32_t c) {
  Philox4x32 ctr{{a, b, c, 0x67656e31u /* "gen1": separates this use from others */}};
  Philox4x32 out = Philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  const uint64_t bits = (static_cast<uint64_t>(out.v[0]) << 21) ^ (out.v[1] >> 11);
  return static_cast<double>(bits & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

int SampleFromDistribution(const float* p, int n, double u) {
  // Kahan-compensated total, as numpy checks it, and the plain running sums as the cdf.
  double total = 0, compensation = 0;
  for (int i = 0; i < n; ++i) {
    MELODY_REQUIRE(!std::isnan(p[i])) << "probabilities contain NaN";
    const double y = static_cast<double>(p[i]) - compensation;
    const double t = total + y;
    compensation = (t - total) - y;
    total = t;
  }
  const double tolerance = std::sqrt(static_cast<double>(std::numeric_limits<float>::epsilon()));
  MELODY_REQUIRE(std::abs(total - 1.0) <= tolerance)
      << "probabilities do not sum to 1 (sum " << total << ")";
  double running = 0;
  std::vector<double> cdf(n);
  for (int i = 0; i < n; ++i) cdf[i] = running += static_cast<double>(p[i]);
  const double last = cdf[n - 1];
  for (int i = 0; i < n; ++i)
    if (cdf[i] / last > u) return i;
  return n - 1;  // u rounds past the last bin only when trailing probabilities are zero
}

namespace {

// One candidate sequence: a row of the batch.
struct Candidate {
  std::vector<int> events;
  float score = 0;
};

// What every row of one primer starts from after the primer has been fed.
struct PrimerResult {
  std::vector<float> last_probs;  // softmax at the last primer position [C]
  double primer_term = 0;         // log-likelihood of primer events 1..L-1
};

Tensor DeviceRows(Context& ctx, const std::vector<int32_t>& rows) {
  Tensor host({static_cast<int64_t>(rows.size())}, DType::kInt32);
  std::copy(rows.begin(), rows.end(), host.data<int32_t>());
  if (ctx.is_cpu()) return host;
  Tensor device({static_cast<int64_t>(rows.size())}, DType::kInt32, ctx.device());
  CopyOnStream(ctx, host, &device);
  return device;
}

// What a row carries between steps: the flattened state and the attention key cache
// (melody_rnn_generate.h), both [rows, F] per tensor; undefined cache entries stay so.
struct Carried {
  std::vector<Tensor> state, keys;
};

// out[i][r] = source[i][rows[r]] for every defined tensor.
std::vector<Tensor> GatherTensors(Context& ctx, const std::vector<Tensor>& source,
                                  const Tensor& index, int64_t count) {
  std::vector<Tensor> out;
  for (const Tensor& s : source) {
    if (!s.defined()) {
      out.emplace_back();
      continue;
    }
    Tensor t({count, s.dim(1)}, DType::kFloat32, ctx.device());
    GatherRows(ctx, s, index, &t);
    out.push_back(t);
  }
  return out;
}

Carried GatherCarried(Context& ctx, const Carried& source, const std::vector<int32_t>& rows) {
  const Tensor index = DeviceRows(ctx, rows);
  const int64_t count = static_cast<int64_t>(rows.size());
  return {GatherTensors(ctx, source.state, index, count), GatherTensors(ctx, source.keys, index, count)};
}

// Adds group rows into stacked[i] at `index` (scatter with zeros elsewhere, then add).
void PlaceRows(Context& ctx, const std::vector<Tensor>& group, const Tensor& index, int64_t total,
               std::vector<Tensor>* stacked) {
  if (stacked->empty()) stacked->resize(group.size());
  for (size_t i = 0; i < group.size(); ++i) {
    if (!group[i].defined()) continue;
    Tensor& target = (*stacked)[i];
    if (!target.defined()) {
      target = Tensor({total, group[i].dim(1)}, DType::kFloat32, ctx.device());
      ZeroOnStream(ctx, &target);
    }
    Tensor placed({total, group[i].dim(1)}, DType::kFloat32, ctx.device());
    ScatterRows(ctx, group[i], index, &placed);
    AddInPlace(ctx, placed, &target);
  }
}

// Feeds every distinct primer once (primers of equal length in one batch) and returns the
// primers' final states (and key caches) stacked in primer order, plus each primer's result.
Carried RunPrimers(Context& ctx, const ModelLayout& layout, const Parameters& params,
                               const MelodyEncoder& encoder,
                               const std::vector<std::vector<int>>& primers, float temperature,
                               std::vector<PrimerResult>* results) {
  const int64_t P = static_cast<int64_t>(primers.size());
  const int I = encoder.input_size(), C = encoder.num_classes();
  std::map<size_t, std::vector<int32_t>> by_length;
  for (int32_t p = 0; p < P; ++p) by_length[primers[p].size()].push_back(p);
  results->assign(P, {});
  Carried stacked;
  for (const auto& [length, members] : by_length) {
    const int64_t G = static_cast<int64_t>(members.size()), L = static_cast<int64_t>(length);
    Tensor inputs({G, L, I}, DType::kFloat32);
    for (int64_t g = 0; g < G; ++g) {
      const std::vector<float> rows = encoder.InputsForAllPositions(primers[members[g]]);
      std::copy(rows.begin(), rows.end(), inputs.data<float>() + g * L * I);
    }
    Carried group{ZeroGenerateState(ctx, layout, G), {}};
    Tensor device_inputs = ctx.is_cpu() ? inputs : Tensor({G, L, I}, DType::kFloat32, ctx.device());
    if (!ctx.is_cpu()) CopyOnStream(ctx, inputs, &device_inputs);
    const Tensor probs =
        GenerateForward(ctx, layout, params, device_inputs, temperature, &group.state, &group.keys);
    const float* pr = probs.data<float>();
    for (int64_t g = 0; g < G; ++g) {
      const std::vector<int>& events = primers[members[g]];
      PrimerResult& r = (*results)[members[g]];
      const float* base = pr + g * L * C;
      for (int64_t pos = 1; pos < L; ++pos) {
        const int label = encoder.Label(events, static_cast<size_t>(pos));
        r.primer_term += static_cast<double>(std::log(base[(pos - 1) * C + label]));
      }
      r.last_probs.assign(base + (L - 1) * C, base + L * C);
    }
    if (by_length.size() == 1) return group;  // one group: already in primer order
    const Tensor index = DeviceRows(ctx, members);
    PlaceRows(ctx, group.state, index, P, &stacked.state);
    PlaceRows(ctx, group.keys, index, P, &stacked.keys);
  }
  return stacked;
}

// The reference's float32 score update (§6.3): the increment in double, the sum rounded
// back to float32.
float AddLogProbability(float score, double primer_term, float p) {
  const double increment = primer_term + static_cast<double>(std::log(p));
  return static_cast<float>(static_cast<double>(score) + increment);
}

}  // namespace

std::vector<GeneratedEvents> GenerateWithBeamSearch(Context& ctx, const ModelLayout& layout,
                                                    const Parameters& params,
                                                    const MelodyEncoder& encoder,
                                                    const std::vector<GenerationJob>& jobs,
                                                    const BeamSearchOptions& options,
                                                    const GenerationProgress& progress) {
  MELODY_REQUIRE(options.temperature > 0 && std::isfinite(options.temperature))
      << "--temperature must be a positive number, got " << options.temperature;
  MELODY_REQUIRE(options.beam_size >= 1) << "--beam_size must be >= 1, got " << options.beam_size;
  MELODY_REQUIRE(options.branch_factor >= 1)
      << "--branch_factor must be >= 1, got " << options.branch_factor;
  MELODY_REQUIRE(options.steps_per_iteration >= 1)
      << "--steps_per_iteration must be >= 1, got " << options.steps_per_iteration;
  MELODY_REQUIRE(encoder.input_size() == layout.shape.input_size &&
                 encoder.num_classes() == layout.shape.num_classes)
      << "generate: the encoder (" << encoder.input_size() << " inputs, " << encoder.num_classes()
      << " classes) does not fit the network (" << layout.shape.input_size << ", "
      << layout.shape.num_classes << ")";
  std::vector<GeneratedEvents> results(jobs.size());
  if (jobs.empty()) return results;

  // Distinct primers, fed once each.
  std::map<std::vector<int>, int32_t> primer_ids;
  std::vector<std::vector<int>> primers;
  std::vector<int32_t> job_primer(jobs.size());
  int64_t max_new = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    MELODY_REQUIRE(!jobs[j].primer.empty()) << "primer sequence must have non-zero length";
    MELODY_REQUIRE(jobs[j].new_events >= 1)
        << "primer sequence must be shorter than `num_steps`";
    auto [it, added] = primer_ids.emplace(jobs[j].primer, static_cast<int32_t>(primers.size()));
    if (added) primers.push_back(jobs[j].primer);
    job_primer[j] = it->second;
    max_new = std::max(max_new, jobs[j].new_events);
  }
  std::vector<PrimerResult> primer_results;
  const Carried primer_state =
      RunPrimers(ctx, layout, params, encoder, primers, options.temperature, &primer_results);

  const int k = options.beam_size, n = options.steps_per_iteration;
  const int K = k * options.branch_factor;  // rows per output between pruning points
  const int I = encoder.input_size(), C = encoder.num_classes();
  // The batch: blocks of K rows, one per active job, in job order.
  std::vector<size_t> active(jobs.size());
  std::iota(active.begin(), active.end(), 0);
  std::vector<Candidate> rows;
  std::vector<int32_t> from_primer;
  for (size_t j = 0; j < jobs.size(); ++j)
    for (int s = 0; s < K; ++s) {
      rows.push_back({jobs[j].primer, 0.0f});
      from_primer.push_back(job_primer[j]);
    }
  Carried carried = GatherCarried(ctx, primer_state, from_primer);

  const int threads = ctx.is_cpu() ? ctx.num_threads() : 1;
  for (int64_t t = 0; t < max_new; ++t) {
    const int64_t R = static_cast<int64_t>(rows.size());
    Tensor probs;
    if (t > 0) {
      Tensor inputs({R, 1, I}, DType::kFloat32);
      float* in = inputs.data<float>();
      ParallelFor(threads, R, 64, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const std::vector<int>& ev = rows[r].events;
          encoder.EncodeInput(ev, ev.size() - 1, in + r * I);
        }
      });
      Tensor device_inputs = inputs;
      if (!ctx.is_cpu()) {
        device_inputs = Tensor({R, 1, I}, DType::kFloat32, ctx.device());
        CopyOnStream(ctx, inputs, &device_inputs);
      }
      probs = GenerateForward(ctx, layout, params, device_inputs, options.temperature,
                              &carried.state, &carried.keys);
    }
    // Sample one event per row.
    ParallelFor(threads, R, 64, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const size_t job = active[r / K];
        const PrimerResult& primer = primer_results[job_primer[job]];
        const float* p = t == 0 ? primer.last_probs.data() : probs.data<float>() + r * C;
        const double u = PhiloxUniformDouble(options.seed, static_cast<uint32_t>(jobs[job].output_index),
                                             static_cast<uint32_t>(t), static_cast<uint32_t>(r % K));
        const int c = SampleFromDistribution(p, C, u);
        Candidate& cand = rows[r];
        cand.events.push_back(encoder.ClassToEvent(c, cand.events));
        cand.score = AddLogProbability(cand.score, t == 0 ? primer.primer_term : 0.0, p[c]);
      }
    });
    if (progress) progress(t + 1, R);

    // Pruning points, finished outputs, and the rows of the next step.
    const int64_t done = t + 1;
    std::vector<int32_t> gather;
    std::vector<size_t> next_active;
    bool identity = true;
    for (size_t b = 0; b < active.size(); ++b) {
      const size_t job = active[b];
      const int64_t total = jobs[job].new_events;
      const int64_t first = (total - 1) % n + 1;
      const bool prune = done == total || (done >= first && (done - first) % n == 0);
      std::vector<int32_t> order(K);
      std::iota(order.begin(), order.end(), static_cast<int32_t>(b * K));
      if (prune && K > 1) {
        std::stable_sort(order.begin(), order.end(), [&](int32_t x, int32_t y) {
          return rows[x].score > rows[y].score;
        });
      }
      if (done == total) {
        results[job].events = rows[order[0]].events;
        results[job].log_likelihood = rows[order[0]].score;
        identity = false;
        continue;
      }
      next_active.push_back(job);
      for (int s = 0; s < K; ++s) {
        const int32_t src = prune ? order[s % k] : order[s];
        if (src != static_cast<int32_t>(b * K + s)) identity = false;
        gather.push_back(src);
      }
    }
    if (next_active.empty()) break;
    if (!identity) {
      std::vector<Candidate> next_rows;
      next_rows.reserve(gather.size());
      for (int32_t src : gather) next_rows.push_back(rows[src]);
      rows = std::move(next_rows);
      carried = GatherCarried(ctx, carried, gather);
      active = std::move(next_active);
    }
  }
  return results;
}

}  // namespace melody
