// Primer handling of melody_rnn_generate against shared/spec/generation.md: the literal
// parser, the worked examples of §4 (start step, padding, steps to generate), the primer
// that is too long, a primer in bar 2, Melody -> NoteSequence (§8.1).
#include "apps/lib/generate_primer.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace melody {
namespace {

std::string ErrorOf(const std::string& text) {
  try {
    ParsePrimerMelodyText(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GeneratePrimerTest, ParsesPythonLists) {
  EXPECT_EQ(ParsePrimerMelodyText("[60, -2, 60, -2, 67, -2, 67, -2]"),
            (std::vector<int>{60, -2, 60, -2, 67, -2, 67, -2}));
  EXPECT_EQ(ParsePrimerMelodyText(" ( 60 ,-1, ) "), (std::vector<int>{60, -1}));
  EXPECT_EQ(ParsePrimerMelodyText("[127,0,-2]"), (std::vector<int>{127, 0, -2}));
  EXPECT_TRUE(ParsePrimerMelodyText("[]").empty());
  EXPECT_NE(ErrorOf("[60, 128]").find("--primer_melody: Melody event out of range: 128"), std::string::npos);
  EXPECT_NE(ErrorOf("[-3]").find("out of range: -3"), std::string::npos);
  EXPECT_NE(ErrorOf("[99999999999999]").find("out of range"), std::string::npos);
  for (const char* bad : {"60", "[60", "[60 62]", "[a]", "[60]]", "[6.5]", ""})
    EXPECT_NE(ErrorOf(bad).find("--primer_melody"), std::string::npos) << bad;
}

TEST(GeneratePrimerTest, DefaultPrimerWorkedExample) {
  // generation.md §4: [60] at 120 qpm, 128 steps -> [60, -1, -2], 125 generated.
  const GenerationPlan plan = PlanGeneration(PrimerFromEvents({60}, 120.0), 128, "primer");
  EXPECT_EQ(plan.primer.events, (std::vector<int>{60, -1, -2}));
  EXPECT_EQ(plan.primer.start_step, 0);
  EXPECT_EQ(plan.total_steps, 128);
  EXPECT_EQ(plan.new_events(), 125);
  EXPECT_EQ(plan.qpm, 120.0);
}

TEST(GeneratePrimerTest, EightEventWorkedExample) {
  const GenerationPlan plan =
      PlanGeneration(PrimerFromEvents({60, -2, 60, -2, 67, -2, 67, -2}, 120.0), 128, "primer");
  EXPECT_EQ(plan.primer.events, (std::vector<int>{60, -2, 60, -2, 67, -2, 67, -2, -1, -2}));
  EXPECT_EQ(plan.new_events(), 118);
}

TEST(GeneratePrimerTest, LeadingNoteOffsAndLaterStart) {
  // Leading -1/-2 become holds; the melody starts at the bar of its first note, so the
  // output has fewer than num_steps events (§3.4).
  std::vector<int> events(20, -2);
  events[0] = -1;
  events[18] = 64;
  const GenerationPlan plan = PlanGeneration(PrimerFromEvents(events, 120.0), 64, "primer");
  EXPECT_EQ(plan.primer.start_step, 16);
  // Note 64 on steps 18-19; generation starts at int(2.625 s * 8 + 1) = step 22.
  EXPECT_EQ(plan.primer.events, (std::vector<int>{-2, -2, 64, -2, -1, -2}));
  EXPECT_EQ(plan.total_steps, 48);
}

TEST(GeneratePrimerTest, PrimerTooLong) {
  try {
    PlanGeneration(PrimerFromEvents({60}, 120.0), 2, "primer");
    FAIL() << "expected an error";
  } catch (const PrimerTooLongError& e) {
    EXPECT_STREQ(e.what(), "primer: Priming sequence is longer than the total number of steps "
                           "requested: Priming sequence length: 0.25, Generation length requested: 0.25");
  }
  // 3 steps: start_time 0.25 < 0.375, but the round-up start step 3 leaves nothing.
  try {
    PlanGeneration(PrimerFromEvents({60}, 120.0), 3, "primer");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("primer sequence must be shorter than `num_steps`"),
              std::string::npos)
        << e.what();
  }
}

TEST(GeneratePrimerTest, NonExactTempoRoundsAsTheReference) {
  // 100 qpm: seconds_per_step = 0.15; [60] ends 0.15, start_time 0.3 -> 0.3 * 6.666.. + 1.
  const GenerationPlan plan = PlanGeneration(PrimerFromEvents({60}, 100.0), 32, "primer");
  const double sps = 60.0 / 100.0 / 4;
  const double steps_per_second = 4 * 100.0 / 60.0;
  const int64_t start = static_cast<int64_t>((0.0 + sps + sps) * steps_per_second + 1.0);
  const int64_t end = static_cast<int64_t>(32 * sps * steps_per_second + 0.0);
  EXPECT_EQ(static_cast<int64_t>(plan.primer.size()), start);
  EXPECT_EQ(plan.total_steps, end);
}

TEST(GeneratePrimerTest, MelodyToNoteSequence) {
  Melody m = Melody::FromEvents({60, -2, 62, -1, -2, 64}, 16);
  const magenta::NoteSequence s = MelodyToNoteSequence(m, 120.0);
  ASSERT_EQ(s.notes_size(), 3);
  EXPECT_EQ(s.tempos(0).qpm(), 120.0);
  EXPECT_EQ(s.ticks_per_quarter(), 220);
  EXPECT_DOUBLE_EQ(s.notes(0).start_time(), 2.0);  // step 16 at 0.125 s per step
  EXPECT_DOUBLE_EQ(s.notes(0).end_time(), 2.25);
  EXPECT_DOUBLE_EQ(s.notes(1).end_time(), 2.375);
  EXPECT_DOUBLE_EQ(s.notes(2).start_time(), 2.625);
  EXPECT_DOUBLE_EQ(s.notes(2).end_time(), 2.75);
  EXPECT_EQ(s.notes(2).velocity(), 100);
  EXPECT_DOUBLE_EQ(s.total_time(), 2.75);
}

}  // namespace
}  // namespace melody
