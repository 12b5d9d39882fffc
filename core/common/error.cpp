// SPDX-License-Identifier: GPL-3.0-or-later
#include "common/error.h"

namespace basin {

std::string_view codeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::Internal: return "internal";
    case ErrorCode::InvalidArgument: return "invalid_argument";
    case ErrorCode::Cancelled: return "cancelled";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::NotFound: return "not_found";
    case ErrorCode::IoError: return "io_error";
    case ErrorCode::PermissionDenied: return "permission_denied";
    case ErrorCode::DestinationExists: return "destination_exists";
    case ErrorCode::NoSpace: return "no_space";
    case ErrorCode::FileTooSmall: return "file_too_small";
    case ErrorCode::HeaderTooLarge: return "header_too_large";
    case ErrorCode::BadHeaderLength: return "bad_header_length";
    case ErrorCode::InvalidHeader: return "invalid_header";
    case ErrorCode::DuplicateKey: return "duplicate_key";
    case ErrorCode::InvalidTensorInfo: return "invalid_tensor_info";
    case ErrorCode::UnknownDtype: return "unknown_dtype";
    case ErrorCode::Overflow: return "overflow";
    case ErrorCode::InvalidOffset: return "invalid_offset";
    case ErrorCode::IncompleteBuffer: return "incomplete_buffer";
    case ErrorCode::InvalidMetadata: return "invalid_metadata";
    case ErrorCode::InvalidIndex: return "invalid_index";
    case ErrorCode::UnsafePath: return "unsafe_path";
    case ErrorCode::MissingShard: return "missing_shard";
    case ErrorCode::TensorInTwoShards: return "tensor_in_two_shards";
    case ErrorCode::TensorMissingFromShard: return "tensor_missing_from_shard";
    case ErrorCode::UnsupportedDtype: return "unsupported_dtype";
    case ErrorCode::ShapeMismatch: return "shape_mismatch";
    case ErrorCode::NonFinite: return "non_finite";
    case ErrorCode::RecipeSyntax: return "recipe_syntax";
    case ErrorCode::UnknownKey: return "unknown_key";
    case ErrorCode::UnknownMethod: return "unknown_method";
    case ErrorCode::UnknownParameter: return "unknown_parameter";
    case ErrorCode::MissingParameter: return "missing_parameter";
    case ErrorCode::WrongType: return "wrong_type";
    case ErrorCode::OutOfRange: return "out_of_range";
    case ErrorCode::MissingBase: return "missing_base";
    case ErrorCode::InvalidRecipe: return "invalid_recipe";
    case ErrorCode::MergeFailed: return "merge_failed";
    }
    return "unknown";
}

} // namespace basin
