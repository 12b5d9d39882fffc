// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>
#include <string_view>

namespace basin {

// One code per rule a caller may want to react to. Messages carry the detail (file,
// tensor, rule) in plain words; codes let tests and the UI tell errors apart.
// Append new codes inside the group they belong to; codeName() must list every one.
enum class ErrorCode {
    // generic
    Internal,
    InvalidArgument,
    Cancelled,
    Unsupported,
    // file system
    NotFound,
    IoError,
    PermissionDenied,
    DestinationExists,
    NoSpace,
    // safetensors (FORMATS.md rules, in order)
    FileTooSmall,
    HeaderTooLarge,
    BadHeaderLength,
    InvalidHeader,
    DuplicateKey,
    InvalidTensorInfo,
    UnknownDtype,
    Overflow,
    InvalidOffset,
    IncompleteBuffer,
    InvalidMetadata,
    // sharded folders
    InvalidIndex,
    UnsafePath,
    MissingShard,
    TensorInTwoShards,
    TensorMissingFromShard,
    // data
    UnsupportedDtype,
    ShapeMismatch,
    NonFinite,
    // recipes
    RecipeSyntax,
    UnknownKey,
    UnknownMethod,
    UnknownParameter,
    MissingParameter,
    WrongType,
    OutOfRange,
    MissingBase,
    InvalidRecipe,
    // merging
    MergeFailed,
};

// Stable, lower_snake_case name of a code (used in JSON output and tests).
std::string_view codeName(ErrorCode code);

struct Error {
    ErrorCode code = ErrorCode::Internal;
    std::string message;

    // "message" alone; the code is for machines.
    const std::string &what() const { return message; }
};

} // namespace basin
