// Which build of the CPU loops that are compiled twice (baseline x86-64 and -mavx2; see
// cpu/attention_rows_impl.h and cpu/lstm_gate_rows_impl.h) runs on this machine.
#pragma once

namespace melody::cpu {

// True when this build has the AVX2 copies (x86-64: MELODY_KERNELS_AVX2) and the CPU
// supports AVX2. Both copies give the same bits; only the speed differs.
bool UseAvx2Loops();

}  // namespace melody::cpu
