-- cudnn.LogSoftMax: y = x - log(sum exp(x)), over each sample (all of C x H x W in instance mode,
-- the default) or over the channels at each position (channel mode). As in cudnn.torch, a
-- cudnn.SoftMax that takes the log.
local schema = require('nn.schema')
local LogSoftMax, parent = torch.class('cudnn.LogSoftMax', 'cudnn.SoftMax')

schema.inherited(LogSoftMax, "cudnn.SoftMax's fields")

LogSoftMax._log = true

return LogSoftMax
