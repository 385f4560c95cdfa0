-- nn.kernels: the one binding of the nn packages (nn, cudnn, rnn, nnx, inn, dpnn) to
-- their NumPy kernels, made once when nn is required, as torch/nn's THNN.lua binds the
-- THNN library: every kernel listed below becomes a Lua function, and a kernel the
-- Python side lacks makes `require 'nn'` fail, naming it.
--
--   local kernels = require 'nn.kernels'
--   kernels.conv2d(out, input, weight, bias, kW, kH, dW, dH, padW, padH)
--
-- Tensors travel as ndarray views of the same memory; a kernel writes into the tensors
-- it is given and returns one value (nil for most). A kernel's argument error (a NumPy
-- ValueError on shapes, ...) comes back as a Lua error naming the nn module that called
-- it, the kernel and the arguments' shapes (torch/numpy.lua maps it).
--
-- Also here, so that no module repeats them: kernels.thresholds (per op, from which size
-- on its NumPy kernel beats the module's Lua loop) with kernels.faster, and
-- kernels.output, the one helper that readies a module's output buffer.
--
-- In a Lua state without Python (a bare luajit: no torch._np) kernels.available is
-- false, kernels.faster is always false and each kernel raises an error saying what
-- it needs; the modules that have a Lua loop run it.
require('torch')
local utils = require('nn.utils')

local kernels = {}

-- The kernels, by Python module, as the nn modules call them (sparktorch7/<module>.py
-- documents each one's arguments).
local MANIFEST = {
   {'sparktorch7._nn_ops', {
      -- linear layers and activations
      'linear', 'threshold_max', 'threshold_grad',
      -- convolutions, forward and backward
      'conv2d', 'conv2d_grad_input', 'conv2d_acc_grad',
      'conv3d', 'conv3d_grad_input', 'conv3d_acc_grad',
      'full_conv2d', 'full_conv2d_grad_input', 'full_conv2d_acc_grad',
      'full_conv3d', 'full_conv3d_grad_input', 'full_conv3d_acc_grad',
      'conv_map2d', 'conv_map2d_grad_input', 'conv_map2d_acc_grad',
      'subsampling2d', 'subsampling2d_grad_input', 'subsampling2d_acc_grad',
      'temporal_conv', 'temporal_conv_grad_input', 'temporal_conv_acc_grad',
      'temporal_subsampling', 'temporal_subsampling_grad_input', 'temporal_subsampling_acc_grad',
      'conv_local2d', 'conv_local2d_grad_input', 'conv_local2d_acc_grad',
      'full_conv_map2d', 'full_conv_map2d_grad_input', 'full_conv_map2d_acc_grad',
      'depthwise_conv2d', 'depthwise_conv2d_grad_input', 'depthwise_conv2d_acc_grad',
      'row_conv', 'row_conv_grad_input', 'row_conv_acc_grad',
      -- pooling
      'max_pool2d', 'max_pool2d_grad', 'max_pool3d', 'max_pool3d_grad', 'max_unpool2d', 'max_unpool2d_grad',
      'avg_pool2d', 'avg_pool2d_grad', 'avg_pool3d', 'avg_pool3d_grad',
      'adaptive_pool2d', 'adaptive_pool2d_grad',
      'temporal_max_pool', 'temporal_max_pool_grad',
      'fractional_max_pool', 'fractional_max_pool_grad', 'max_pool3d_indices', 'packed_indices_from_bytes',
      'max_unpool3d', 'max_unpool3d_grad', 'feature_lp_pool', 'feature_lp_pool_grad',
      -- normalisation (and folding a batch norm into the convolution before it)
      'batchnorm', 'batchnorm_grad', 'bn_var_from_std', 'bn_fold', 'same_bytes',
      'cross_map_lrn', 'cross_map_lrn_grad', 'local_normalize', 'local_normalize_grad',
      -- softmaxes over planes
      'softmax', 'softmax_grad', 'softmax_flat', 'softmax_flat_grad',
      -- criterions over maps and label lists
      'spatial_class_nll', 'spatial_class_nll_grad', 'multilabel_margin', 'multilabel_margin_grad',
      -- padding, resizing, dropout of whole planes
      'pad2d', 'pad2d_grad', 'pad3d', 'pad3d_grad', 'upsample_nearest', 'upsample_nearest_grad',
      'upsample_nearest3d', 'upsample_nearest3d_grad', 'upsample_trilinear', 'upsample_trilinear_grad',
      'upsample_bilinear', 'upsample_bilinear_grad', 'pixel_shuffle', 'pixel_shuffle_grad',
      'channel_dropout_grad',
   }},
   {'sparktorch7._rnn_ops', {
      'seq_lstm', 'seq_gru', 'lstm_step', 'fast_lstm_step', 'cudnn_param_count', 'cudnn_rnn',
      -- torch/rnn's StepLSTM/StepGRU, torch-rnn's LSTM (nn.fastpaths)
      'step_lstm', 'step_gru', 'torch_rnn_lstm',
      -- their backward (BPTT)
      'seq_lstm_backward', 'seq_gru_backward', 'step_lstm_backward', 'step_gru_backward',
      'cudnn_rnn_backward',
   }},
   {'sparktorch7._pkg_ops', {
      'roi_pooling', 'resample_bilinear', 'resample_average', 'resample_pick',
      'resample_bilinear_grad', 'resample_average_grad', 'resample_pick_grad', 'roi_pooling_grad',
      -- nnx's max sampling, tree softmax and matching, inn's stochastic pooling, stn's sampler
      'max_sampling', 'max_sampling_grad', 'soft_max_tree', 'spatial_matching', 'stochastic_pool',
      'bilinear_sampler_bhwd',
      -- their backward
      'bilinear_sampler_bhwd_grad', 'spatial_matching_grad', 'spatial_graph_grad', 'soft_max_tree_grad',
      'soft_max_tree_acc',
   }},
}

-- From which size on an op's NumPy kernel is faster than the module's Lua loop: below
-- it the trip to Python (some 10 us) costs more than the loop saves. Only float and
-- double tensors go to NumPy. Ops without a Lua loop (convolutions, pooling, ...) always
-- call their kernel and have no entry.
kernels.thresholds = {
   -- nn.Linear's forward, in multiply-adds (rows x inputs x outputs)
   linear = 4096,
   -- nn.Threshold with val == threshold (nn.ReLU, ...) and cudnn.ReLU, in elements of
   -- a contiguous input: NumPy's vectorised max against LuaJIT's loop
   threshold_max = 32768,
   -- nn.Threshold's gradient (x > threshold ? dE/dy : 0), in elements
   threshold_grad = 32768,
}

local FLOATING = {['torch.FloatTensor'] = true, ['torch.DoubleTensor'] = true}

local np = rawget(torch, '_np')
kernels.available = np ~= nil

local function bind(modname, name)
   local ok, f = pcall(np.bind, modname, name)
   if not ok then
      error(string.format("<nn.kernels> cannot bind the NumPy kernel %s:%s that nn/kernels.lua lists: %s",
                          modname, name, (tostring(f):gsub('^Python exception: ', ''))), 0)
   end
   return f
end

local function missing(modname, name)
   return function()
      error(string.format('<nn> the NumPy kernel %s:%s runs only inside a sparktorch7.LuaState '
                          .. '(this Lua state has no Python: torch._np is missing)', modname, name), 2)
   end
end

for _, entry in ipairs(MANIFEST) do
   local modname, names = entry[1], entry[2]
   for _, name in ipairs(names) do
      if kernels[name] ~= nil then
         error(string.format('<nn.kernels> the kernel name %s is listed twice', name), 0)
      end
      kernels[name] = np and bind(modname, name) or missing(modname, name)
   end
end

-- Is op's NumPy kernel faster than the Lua loop for tensor t of `size` (counted as
-- kernels.thresholds says for op)?
function kernels.faster(op, t, size)
   local min = kernels.thresholds[op]
   if min == nil then
      error(string.format('<nn.kernels> no threshold for op %s', tostring(op)), 2)
   end
   return kernels.available and FLOATING[torch.type(t)] == true and size >= min
end

local function resize(out, like, sizes)
   if sizes == nil then
      out:resizeAs(like)
   elseif type(sizes) == 'table' then
      out:resize(unpack(sizes))
   else
      out:resize(sizes)
   end
end

-- owner[field] (owner.output by default) made ready to receive a result computed from
-- `like`: a contiguous tensor of like's type, sized by `sizes` (a list of numbers or a
-- torch.LongStorage; nil: like's own size). The tensor of the last call is reused when
-- it fits, as Torch7 modules reuse theirs; it is never `like` itself (the output of an
-- in-place module is its input until a call replaces it here).
function kernels.output(owner, like, sizes, field)
   field = field or 'output'
   local out = owner[field]
   if not torch.isTensor(out) or out == like or torch.type(out) ~= torch.type(like) then
      out = utils.newLike(like)
   end
   resize(out, like, sizes)
   if not out:isContiguous() then
      out = utils.newLike(like)
      resize(out, like, sizes)
   end
   owner[field] = out
   return out
end

return kernels
