// Progress reporting for long jobs: rates over a window and an ETA, as one log line.
#pragma once

#include <cstdint>
#include <string>

namespace melody {

// 59s, 2m05s, 3h07m, 2d04h; "?" for a negative or non-finite value.
std::string FormatDuration(double seconds);

// Rates between two calls of Line(): steps/s, examples/s and events/s (valid positions),
// the share of wall time the step waited on input, and with a target an ETA.
class ProgressMeter {
 public:
  // total_steps: steps this session will run (0 = until stopped); first_step: the global
  // step at the start.
  ProgressMeter(int64_t first_step, int64_t total_steps, double now_seconds);
  // Adds one finished step.
  void AddStep(int64_t examples, int64_t events) {
    ++window_steps_;
    window_examples_ += examples;
    window_events_ += events;
  }
  // "step 450/1000 (45.0%), 3.21 steps/s, 411 examples/s, 56.3k events/s, input wait 0.1%,
  // ETA 2m51s" over the steps since the last call; resets the window.
  std::string Line(int64_t global_step, double now_seconds, double input_wait_seconds);
  double last_steps_per_second() const { return last_rate_; }

 private:
  int64_t first_step_, total_steps_;
  double window_start_;
  double window_wait_start_ = 0;
  int64_t window_steps_ = 0, window_examples_ = 0, window_events_ = 0;
  double last_rate_ = 0;
};

}  // namespace melody
