-- cutorch for sparktorch7: there is no GPU. torch.CudaTensor and friends are
-- the CPU types (see torch/init.lua); the device functions report no device.
require('torch')

cutorch = cutorch or {}

function cutorch.getDeviceCount() return 0 end
function cutorch.getDevice() return 1 end
function cutorch.setDevice(id) end
function cutorch.synchronize() end
function cutorch.synchronizeAll() end
function cutorch.manualSeed(seed) torch.manualSeed(seed) end
function cutorch.manualSeedAll(seed) torch.manualSeed(seed) end
function cutorch.getMemoryUsage() return 0, 0 end
function cutorch.withDevice(id, f) return f() end

return cutorch
