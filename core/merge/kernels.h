// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The kernel of every method, one definition per method-family file. Private to
// core/merge: everyone else reaches kernels through methods() / findMethod().

#include "merge/method.h"

namespace basin::merge {

// Each writes job.numel values to out and returns an error naming the tensor, the model
// and the rule when the inputs break one of the method's rules (docs/METHODS.md).
Result<void> kernelLinear(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelTaskArithmetic(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelTies(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelDareLinear(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelDareTies(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelBreadcrumbs(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelBreadcrumbsTies(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelDella(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelDellaLinear(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelSlerp(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelNuslerp(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelMultislerp(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelKarcher(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelModelStock(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelSce(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelNearswap(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelRam(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelRamplusTl(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelArceeFusion(const TensorJob &job, std::span<float> out, TensorNotes &notes);
Result<void> kernelPassthrough(const TensorJob &job, std::span<float> out, TensorNotes &notes);

} // namespace basin::merge
