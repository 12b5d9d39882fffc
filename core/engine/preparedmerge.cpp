// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/preparedmerge.h"

#include "model/tensorname.h"
#include "recipe/validate.h"

#include <algorithm>
#include <map>
#include <new>
#include <set>

namespace basin::engine {

namespace {

std::string shapeText(const std::vector<std::uint64_t> &shape)
{
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

// The methods whose kernels compute every output element from the same element of the
// inputs with per-tensor constants only (no ranks, norms, sums or element-keyed random
// numbers), so running them on chunks gives the same bytes as on the whole tensor.
// Keep in step with core/merge; tst_mergegolden checks both paths give identical bytes.
bool isElementwise(std::string_view method)
{
    return method == "linear" || method == "task_arithmetic" || method == "passthrough" ||
           method == "nearswap";
}

bool isEmbedding(std::string_view tensorName)
{
    const TensorKind kind = parseTensorName(tensorName).kind;
    return kind == TensorKind::Embed || kind == TensorKind::Head;
}

// Every dimension at least the output's, same rank: the leading block can be cut out.
bool canCrop(const std::vector<std::uint64_t> &input, const std::vector<std::uint64_t> &output)
{
    if (input.size() != output.size())
        return false;
    for (std::size_t d = 0; d < input.size(); ++d) {
        if (input[d] < output[d])
            return false;
    }
    return true;
}

std::string modelLabel(const recipe::MergePlan &plan, int model)
{
    return plan.models[static_cast<std::size_t>(model)].path;
}

Result<std::vector<std::shared_ptr<const Checkpoint>>> openModels(const recipe::Recipe &recipe,
                                                                  const recipe::MergePlan &plan)
{
    std::vector<std::shared_ptr<const Checkpoint>> models;
    for (const recipe::ModelRef &ref : plan.models) {
        const std::filesystem::path path =
            ref.resolved.empty() ? std::filesystem::path(ref.path) : ref.resolved;
        Result<std::shared_ptr<const Checkpoint>> opened = Checkpoint::open(path);
        if (!opened) {
            return makeError(opened.error().code, recipe.where(ref.loc) + "model " + ref.path +
                                                      ": " + opened.error().message);
        }
        models.push_back(std::move(*opened));
    }
    return models;
}

int layerCountOf(const Checkpoint &model)
{
    const nlohmann::json &config = model.config();
    if (!config.is_object())
        return -1;
    const auto it = config.find("num_hidden_layers");
    if (it == config.end() || !it->is_number_integer())
        return -1;
    const auto value = it->get<long long>();
    return value >= 0 && value < (1 << 20) ? static_cast<int>(value) : -1;
}

class Preparer {
public:
    Preparer(const recipe::Recipe &recipe, const MergeOptions &options) : m_options(options)
    {
        m_out.recipe = recipe;
    }

    Result<PreparedMerge> run();

private:
    Result<void> openAndPlan();
    Result<void> decideTensor(const recipe::PlannedTensor &planned);
    Result<InputSource> source(const recipe::PlannedInput &input, int planInput) const;
    Result<void> pickTokenizer();
    Result<void> planFiles();

    const MergeOptions &m_options;
    PreparedMerge m_out;
    std::set<std::string> m_dtypeFallbacks;
};

Result<PreparedMerge> Preparer::run()
{
    BASIN_TRY(openAndPlan());
    m_out.method = merge::findMethod(m_out.recipe.mergeMethod);
    m_out.seed = m_options.seed ? *m_options.seed : m_out.recipe.seed.value_or(0);
    m_out.elementwise = isElementwise(m_out.recipe.mergeMethod);
    m_out.configModel = m_out.plan.baseIndex >= 0 ? m_out.plan.baseIndex : 0;
    m_out.outputs.reserve(m_out.plan.tensors.size());
    for (const recipe::PlannedTensor &planned : m_out.plan.tensors)
        BASIN_TRY(decideTensor(planned));
    if (m_out.outputs.empty())
        return makeError(ErrorCode::InvalidArgument,
                         m_out.recipe.where({}) + "the merge has no output tensors");
    for (const std::string &dtype : m_dtypeFallbacks)
        m_out.warnings.push_back("tensors stored as " + dtype +
                                 " are written as F32 (Basin writes F32, F16 and BF16; set "
                                 "out_dtype to choose)");
    BASIN_TRY(pickTokenizer());
    BASIN_TRY(planFiles());
    return std::move(m_out);
}

Result<void> Preparer::openAndPlan()
{
    const recipe::Recipe &recipe = m_out.recipe;
    // Recipe errors first: a recipe built in the GUI reaches here unvalidated.
    BASIN_TRY(recipe::validateRecipe(recipe));
    // The plan needs tensor names; the names need the models open. Open in the order the
    // plan will index them (Recipe::referencedModels()).
    recipe::MergePlan shell;
    shell.models = recipe.referencedModels();
    if (shell.models.empty())
        return makeError(ErrorCode::InvalidRecipe, recipe.where({}) + "the recipe names no model");
    Result<std::vector<std::shared_ptr<const Checkpoint>>> models = openModels(recipe, shell);
    if (!models)
        return models.takeError();
    m_out.models = std::move(*models);

    recipe::PlanInputs inputs;
    for (const auto &model : m_out.models) {
        std::vector<std::string> names;
        names.reserve(model->tensors().size());
        for (const TensorInfo &tensor : model->tensors())
            names.push_back(tensor.name);
        inputs.tensorNames.push_back(std::move(names));
    }
    // referencedModels() lists the base first: models[0] is the base, else the first model.
    inputs.layerCount = layerCountOf(*m_out.models.front());
    Result<recipe::MergePlan> plan = recipe::planMerge(recipe, inputs);
    if (!plan)
        return plan.takeError();
    m_out.plan = std::move(*plan);
    m_out.warnings = m_out.plan.warnings;
    return {};
}

Result<InputSource> Preparer::source(const recipe::PlannedInput &input, int planInput) const
{
    const Checkpoint &model = *m_out.models[static_cast<std::size_t>(input.model)];
    const TensorInfo *tensor = model.find(input.tensorName);
    if (!tensor) {
        // The plan only lists names the model has; this is a broken invariant, not input.
        return makeError(ErrorCode::Internal, "model " + modelLabel(m_out.plan, input.model) +
                                                  " has no tensor " + input.tensorName);
    }
    if (!dtypeDecodable(tensor->dtype)) {
        const std::string file =
            model.files()[static_cast<std::size_t>(tensor->fileIndex)].string();
        return makeError(ErrorCode::UnsupportedDtype,
                         file + ": tensor " + tensor->name + " of model " +
                             modelLabel(m_out.plan, input.model) + " has dtype " +
                             std::string(dtypeName(tensor->dtype)) +
                             ", which Basin cannot merge (it reads F32, F16, BF16, F8_E4M3, "
                             "F8_E5M2, F64)");
    }
    return InputSource{input.model, tensor, InputUse::Whole, planInput};
}

Result<void> Preparer::decideTensor(const recipe::PlannedTensor &planned)
{
    OutputTensor out;
    if (planned.base) {
        Result<InputSource> base = source(*planned.base, -1);
        if (!base)
            return base.takeError();
        out.base = *base;
    }
    for (std::size_t i = 0; i < planned.inputs.size(); ++i) {
        Result<InputSource> input = source(planned.inputs[i], static_cast<int>(i));
        if (!input)
            return input.takeError();
        out.inputs.push_back(*input);
    }

    // The shape comes from the base when it takes part, else from the first input.
    const InputSource *reference = out.base ? &*out.base : nullptr;
    for (const InputSource &input : out.inputs) {
        if (!reference && input.model == m_out.plan.baseIndex)
            reference = &input;
    }
    if (!reference && !out.inputs.empty())
        reference = &out.inputs.front();
    if (!reference) {
        return makeError(ErrorCode::Internal, "tensor " + planned.name + " has no input");
    }
    out.shape = reference->tensor->shape;
    out.numel = reference->tensor->numel;

    int used = 0;
    for (InputSource &input : out.inputs) {
        if (input.tensor->shape == out.shape) {
            ++used;
            continue;
        }
        const std::string what =
            "model " + modelLabel(m_out.plan, input.model) + ": " + input.tensor->name +
            " has shape " + shapeText(input.tensor->shape) + ", the output " + shapeText(out.shape);
        if (isEmbedding(input.tensor->name) && canCrop(input.tensor->shape, out.shape)) {
            input.use = InputUse::Cropped;
            ++used;
            ++m_out.embeddingsCropped;
            out.notes.push_back(what + "; its leading block is used (embedding cropped)");
        } else {
            input.use = InputUse::Skipped;
            ++m_out.modelsSkipped;
            out.notes.push_back(what + "; the model is left out of this tensor (shapes are never "
                                       "broadcast)");
        }
    }
    if (used < m_out.method->minModels) {
        std::string message = "tensor " + planned.name + ": " + m_out.recipe.mergeMethod +
                              " needs at least " + std::to_string(m_out.method->minModels) +
                              " input(s) besides the base, but only " + std::to_string(used) +
                              " match its shape " + shapeText(out.shape);
        for (const std::string &note : out.notes)
            message += "; " + note;
        return makeError(ErrorCode::ShapeMismatch, message);
    }
    for (const std::string &note : out.notes)
        m_out.warnings.push_back(note);

    // Output dtype: out_dtype, else dtype, else the stored dtype of the shape's reference.
    if (m_out.recipe.outDtype) {
        out.dtype = *m_out.recipe.outDtype;
    } else if (m_out.recipe.dtype) {
        out.dtype = *m_out.recipe.dtype;
    } else if (dtypeEncodable(reference->tensor->dtype)) {
        out.dtype = reference->tensor->dtype;
    } else {
        out.dtype = Dtype::F32;
        m_dtypeFallbacks.insert(std::string(dtypeName(reference->tensor->dtype)));
    }
    m_out.outputs.push_back(std::move(out));
    return {};
}

Result<void> Preparer::pickTokenizer()
{
    const recipe::Recipe &recipe = m_out.recipe;
    using Kind = recipe::TokenizerSource::Kind;
    if (recipe.tokenizer.kind != Kind::Model) {
        // `base`, or unset: the base, else the first model (what mergekit copies).
        m_out.tokenizer = m_out.models[static_cast<std::size_t>(m_out.configModel)];
        return {};
    }
    const int index = recipe.modelIndex(recipe.tokenizer.model);
    if (index >= 0) {
        m_out.tokenizer = m_out.models[static_cast<std::size_t>(index)];
        return {};
    }
    const recipe::ModelRef &ref = recipe.tokenizer.model;
    const std::filesystem::path path =
        ref.resolved.empty() ? std::filesystem::path(ref.path) : ref.resolved;
    Result<std::shared_ptr<const Checkpoint>> opened = Checkpoint::open(path);
    if (!opened) {
        return makeError(opened.error().code, recipe.where(recipe.tokenizer.loc) +
                                                  "tokenizer_source " + ref.path + ": " +
                                                  opened.error().message);
    }
    m_out.tokenizer = std::move(*opened);
    return {};
}

Result<void> Preparer::planFiles()
{
    std::vector<PlannedTensor> planned;
    planned.reserve(m_out.outputs.size());
    std::map<Dtype, std::uint64_t> elementsByDtype;
    for (std::size_t i = 0; i < m_out.outputs.size(); ++i) {
        const OutputTensor &out = m_out.outputs[i];
        planned.push_back(PlannedTensor{m_out.plan.tensors[i].name, out.dtype, out.shape});
        elementsByDtype[out.dtype] += out.numel;
    }
    // torch_dtype names one dtype: the one most of the parameters are written in.
    std::uint64_t most = 0;
    for (const auto &[dtype, count] : elementsByDtype) {
        if (count >= most) {
            most = count;
            m_out.configDtype = dtype;
        }
    }
    Result<ShardPlan> shards = planShards(planned, m_options.maxShardBytes);
    if (!shards)
        return shards.takeError();
    m_out.shards = std::move(*shards);
    return {};
}

} // namespace

std::uint64_t OutputTensor::inputFloatBytes() const
{
    std::uint64_t bytes = base ? numel * sizeof(float) : 0;
    for (const InputSource &input : inputs) {
        if (input.use != InputUse::Skipped)
            bytes += numel * sizeof(float);
    }
    return bytes;
}

std::uint64_t OutputTensor::inputRawBytes() const
{
    std::uint64_t bytes = base ? base->tensor->byteSize : 0;
    for (const InputSource &input : inputs) {
        if (input.use != InputUse::Skipped)
            bytes += input.tensor->byteSize;
    }
    return bytes;
}

Result<PreparedMerge> prepareMerge(const recipe::Recipe &recipe, const MergeOptions &options)
{
    try {
        Preparer preparer(recipe, options);
        return preparer.run();
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::IoError, "out of memory while planning the merge");
    } catch (const std::length_error &) {
        return makeError(ErrorCode::IoError, "out of memory while planning the merge");
    }
}

} // namespace basin::engine
