// SPDX-License-Identifier: GPL-3.0-or-later
#include "io/dtype.h"

#include <array>

namespace basin {

namespace {

struct DtypeRow {
    Dtype dtype;
    std::string_view name;
    unsigned bits;
    std::string_view torchName;
};

// One row per dtype, in enum order; the safetensors spelling is the key of the format.
constexpr std::array kDtypes{
    DtypeRow{Dtype::F64, "F64", 64, "float64"},
    DtypeRow{Dtype::F32, "F32", 32, "float32"},
    DtypeRow{Dtype::F16, "F16", 16, "float16"},
    DtypeRow{Dtype::BF16, "BF16", 16, "bfloat16"},
    DtypeRow{Dtype::I64, "I64", 64, "int64"},
    DtypeRow{Dtype::I32, "I32", 32, "int32"},
    DtypeRow{Dtype::I16, "I16", 16, "int16"},
    DtypeRow{Dtype::I8, "I8", 8, "int8"},
    DtypeRow{Dtype::U8, "U8", 8, "uint8"},
    DtypeRow{Dtype::BOOL, "BOOL", 8, "bool"},
    DtypeRow{Dtype::F8_E4M3, "F8_E4M3", 8, "float8_e4m3fn"},
    DtypeRow{Dtype::F8_E5M2, "F8_E5M2", 8, "float8_e5m2"},
    DtypeRow{Dtype::U16, "U16", 16, "uint16"},
    DtypeRow{Dtype::U32, "U32", 32, "uint32"},
    DtypeRow{Dtype::U64, "U64", 64, "uint64"},
    DtypeRow{Dtype::C64, "C64", 64, "complex64"},
    DtypeRow{Dtype::F8_E8M0, "F8_E8M0", 8, "float8_e8m0fnu"},
    DtypeRow{Dtype::F8_E4M3FNUZ, "F8_E4M3FNUZ", 8, "float8_e4m3fnuz"},
    DtypeRow{Dtype::F8_E5M2FNUZ, "F8_E5M2FNUZ", 8, "float8_e5m2fnuz"},
    DtypeRow{Dtype::F6_E2M3, "F6_E2M3", 6, "float6_e2m3fn"},
    DtypeRow{Dtype::F6_E3M2, "F6_E3M2", 6, "float6_e3m2fn"},
    DtypeRow{Dtype::F4, "F4", 4, "float4_e2m1fn_x2"},
};

const DtypeRow &row(Dtype dtype)
{
    return kDtypes[static_cast<std::size_t>(dtype)];
}

} // namespace

std::string_view dtypeName(Dtype dtype)
{
    return row(dtype).name;
}

std::optional<Dtype> parseDtype(std::string_view name)
{
    for (const DtypeRow &r : kDtypes) {
        if (r.name == name)
            return r.dtype;
    }
    return std::nullopt;
}

unsigned dtypeBits(Dtype dtype)
{
    return row(dtype).bits;
}

bool dtypeDecodable(Dtype dtype)
{
    switch (dtype) {
    case Dtype::F64:
    case Dtype::F32:
    case Dtype::F16:
    case Dtype::BF16:
    case Dtype::F8_E4M3:
    case Dtype::F8_E5M2:
        return true;
    default:
        return false;
    }
}

bool dtypeEncodable(Dtype dtype)
{
    return dtype == Dtype::F32 || dtype == Dtype::F16 || dtype == Dtype::BF16;
}

std::string_view torchDtypeName(Dtype dtype)
{
    return row(dtype).torchName;
}

std::optional<Dtype> parseTorchDtype(std::string_view name)
{
    if (name.starts_with("torch."))
        name.remove_prefix(6);
    for (const DtypeRow &r : kDtypes) {
        if (r.torchName == name)
            return r.dtype;
    }
    // Common aliases seen in recipes and configs.
    if (name == "float" || name == "fp32")
        return Dtype::F32;
    if (name == "half" || name == "fp16")
        return Dtype::F16;
    if (name == "bf16")
        return Dtype::BF16;
    if (name == "double")
        return Dtype::F64;
    return std::nullopt;
}

} // namespace basin
