-- cudnn for sparktorch7: the cudnn.* module classes of models trained on the
-- GPU, run on the CPU with the semantics cuDNN gives them, and cudnn.convert.
require('nn')

cudnn = cudnn or {}
cudnn.benchmark = false
cudnn.fastest = false
cudnn.verbose = false

-- cudnn.torch's bases (cudnn.ReLU and the poolings here inherit their nn twins instead)
require('cudnn._Pointwise')
require('cudnn.ReLU')
require('cudnn.Tanh')
require('cudnn.Sigmoid')
require('cudnn.ClippedReLU')
require('cudnn.SoftMax')
require('cudnn.LogSoftMax')
require('cudnn.BatchNormalization')

-- recurrent networks (cuDNN's flat weight layout, see cudnn/RNN.lua)
require('cudnn.RNN')
require('cudnn.LSTM')
require('cudnn.GRU')
require('cudnn.RNNTanh')
require('cudnn.RNNReLU')
require('cudnn.BLSTM')
require('cudnn.BGRU')

-- spatial and volumetric layers: each inherits its nn twin (cudnn.SpatialDilated-
-- Convolution inherits cudnn.SpatialConvolution, the softmaxes cudnn.SpatialSoftMax,
-- as in cudnn.torch) and runs on the CPU
require('cudnn.SpatialConvolution')
require('cudnn.SpatialDilatedConvolution')
require('cudnn.SpatialFullConvolution')
require('cudnn.VolumetricConvolution')
require('cudnn.VolumetricFullConvolution')
require('cudnn.SpatialMaxPooling')
require('cudnn.SpatialAveragePooling')
require('cudnn.VolumetricMaxPooling')
require('cudnn.VolumetricAveragePooling')
require('cudnn.SpatialBatchNormalization')
require('cudnn.VolumetricBatchNormalization')
require('cudnn.SpatialCrossMapLRN')
require('cudnn.SpatialSoftMax')
require('cudnn.SpatialLogSoftMax')
require('cudnn.VolumetricSoftMax')
require('cudnn.VolumetricLogSoftMax')
require('cudnn._Pooling')
require('cudnn._Pooling3D')
require('cudnn.TemporalConvolution')
require('cudnn.SpatialCrossEntropyCriterion')
require('cudnn.VolumetricCrossEntropyCriterion')

-- No GPU here: these exist so that scripts written for cudnn run unchanged.
function cudnn.getHandle() return nil end
function cudnn.getStream() return nil end
function cudnn.setStream() end
function cudnn.version() return 0 end

-- cudnn.TemporalConvolution keeps its kernel in kH (a one-plane spatial convolution),
-- nn.TemporalConvolution in kW: cudnn.torch does not convert them either
local NOT_CONVERTED = {RNN = true, LSTM = true, GRU = true, BLSTM = true, BGRU = true,
                       RNNTanh = true, RNNReLU = true, TemporalConvolution = true}

-- The nn equivalent of a cudnn module (or the reverse, with dst = cudnn).
local function convertOne(x, dst)
   local typename = torch.typename(x)
   if not typename then
      return x
   end
   local srcPrefix = dst == nn and 'cudnn.' or 'nn.'
   local dstPrefix = dst == nn and 'nn.' or 'cudnn.'
   if typename:sub(1, #srcPrefix) ~= srcPrefix then
      return x
   end
   local name = typename:sub(#srcPrefix + 1)
   if typename == 'cudnn.ClippedReLU' and dst == nn then
      local y = nn.HardTanh(0, x.ceiling or 6, x.inplace)
      y.train = x.train
      return y
   end
   -- cudnn's RNNs (flat weight) and rnn's nn.LSTM/nn.GRU (module graphs) share
   -- names but not fields: cudnn.convert leaves them alone, as cudnn.torch does
   if NOT_CONVERTED[name] or not torch.getmetatable(dstPrefix .. name) or name:sub(1, 1) == '_' then
      return x
   end
   local y
   if name == 'ReLU' then
      y = dst.ReLU()
   else
      y = {}
   end
   for k, v in pairs(x) do
      y[k] = v
   end
   torch.setmetatable(y, dstPrefix .. name)
   if dst == nn then
      -- cudnn keeps descriptors and handles in these fields; none are used on the CPU
      for _, field in ipairs({'iDesc', 'oDesc', 'wDesc', 'biasDesc', 'convDesc', 'poolDesc',
                              'sDesc', 'nElem', 'iSize', 'workspace', 'extraBuffer'}) do
         y[field] = nil
      end
      if name == 'SpatialAveragePooling' then
         y.divide = true
         y.count_include_pad = x.mode == 'CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING'
      end
   elseif name:find('Convolution') then
      y.groups = y.groups or 1
   end
   return y
end

-- cudnn.convert(model, nn): every cudnn module of the model replaced by its
-- nn equivalent (cudnn.convert(model, cudnn) does the reverse where a cudnn
-- class exists). exclusionFn(module) true keeps a module as it is.
function cudnn.convert(net, dst, exclusionFn)
   if dst ~= nn and dst ~= cudnn then
      error('<cudnn.convert> the destination must be nn or cudnn', 2)
   end
   return net:replace(function(x)
      if exclusionFn and exclusionFn(x) then
         return x
      end
      return convertOne(x, dst)
   end)
end

return cudnn
