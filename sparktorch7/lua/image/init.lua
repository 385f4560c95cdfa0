-- image: the functions of Torch7's `image` package (torch/image) that scoring scripts use,
-- in Torch7's layout (channels x height x width; float images in [0, 1]): load/save of PNG
-- and JPEG, from files or from bytes (decompress/compress; decoded and encoded by Pillow,
-- through Python), scale (simple, bilinear, bicubic), crop, translate, rotate, hflip,
-- vflip, the colour spaces (rgb2yuv, yuv2rgb, rgb2y, rgb2hsl, hsl2rgb, rgb2hsv, hsv2rgb,
-- rgb2lab, lab2rgb), gaussian, gaussian1D, convolve, minmax, warp, affinetransform, lcn,
-- and PPM/PGM files as Torch7's libppm reads and writes them.
-- The pixel loops run in NumPy (sparktorch7/_image.py), computing what torch/image's C
-- code computes, step by step and in the same precision. Needs sparktorch7's LuaState.
require 'torch'
local xlua = require 'xlua'

local image = {}

local KERNELS = 'sparktorch7._image'

local function fail(fname, msg, level)
   error(string.format('<image.%s> %s', fname, msg), (level or 1) + 1)
end

local function kernel(fname, name, ...)
   local np = rawget(torch, '_np')
   if not np then
      fail(fname, 'needs Python (NumPy, Pillow): it runs only inside sparktorch7.LuaState', 3)
   end
   local ok, res = pcall(np.lookup(KERNELS, name), ...)
   if not ok then
      local msg = tostring(res):gsub('^Python exception: ', ''):gsub('^%a+Error: ', '')
      fail(fname, msg, 3)
   end
   return res
end

local function checkImage(fname, t, what, dims)
   if not torch.isTensor(t) then
      fail(fname, string.format('expects %s as a tensor, got %s', what or 'the image', torch.type(t)), 3)
   end
   local d = t:dim()
   if dims then
      if d ~= dims then
         fail(fname, string.format('expects %s as a %dD tensor, got %dD', what or 'the image', dims, d), 3)
      end
   elseif d ~= 2 and d ~= 3 then
      fail(fname, string.format('expects %s as a 2D (height x width) or 3D (channels x height x width) tensor, ' ..
         'got %dD', what or 'the image', d), 3)
   end
end

local function checkNumber(fname, v, what)
   if type(v) ~= 'number' then
      fail(fname, string.format('expects %s as a number, got %s', what, type(v)), 3)
   end
end

-- the ([dst,] src) arguments of the functions that take an optional destination
local function dstSrc(fname, ...)
   local n = select('#', ...)
   if n == 2 then return ... end
   if n == 1 then return nil, (...) end
   fail(fname, 'expects ([dst,] src)', 3)
end

-- ------------------------------------------------------------------ load / save
local TYPES = {float = 'torch.FloatTensor', double = 'torch.DoubleTensor', byte = 'torch.ByteTensor'}

local function newOfType(tensortype)
   if tensortype == nil then return torch.Tensor() end
   local tn = TYPES[tensortype]
   if tn == nil then
      fail('load', "tensortype must be 'byte', 'float' or 'double', got " .. tostring(tensortype), 3)
   end
   return torch.getconstructortable(tn)()
end

-- depth 1: grey (from RGB by rgb2y); depth 3: RGB (grey replicated, alpha dropped)
local function todepth(img, depth)
   if depth == 1 then
      if img:dim() == 2 then return img end
      local c = img:size(1)
      if c == 3 or c == 4 then return image.rgb2y(img:narrow(1, 1, 3))[1] end
      if c == 2 then return img:narrow(1, 1, 1) end
      if c ~= 1 then fail('load', 'image loaded has wrong #channels ' .. c, 3) end
   elseif depth == 3 then
      if img:dim() == 2 then
         return img.new(3, img:size(1), img:size(2)):copy(img:view(1, img:size(1), img:size(2)):expand(3, img:size(1), img:size(2)))
      end
      local c = img:size(1)
      if c == 3 then return img end
      if c == 4 then return img:narrow(1, 1, 3) end
      if c == 1 then return img.new(3, img:size(2), img:size(3)):copy(img:expand(3, img:size(2), img:size(3))) end
      fail('load', 'image loaded has wrong #channels ' .. c, 3)
   elseif depth ~= nil then
      fail('load', 'depth must be 1 or 3, got ' .. tostring(depth), 3)
   end
   return img
end

-- image.load(filename [, depth [, tensortype]]): channels x height x width, in [0, 1]
-- ('float', 'double' or the default tensor type) or 0..255 ('byte')
local function netpbm(filename)
   local f = io.open(filename, 'rb')
   if not f then return false end
   local hdr = f:read(2) or ''
   f:close()
   return hdr:match('^P[2356]') ~= nil
end

function image.load(filename, depth, tensortype)
   if type(filename) ~= 'string' then
      fail('load', 'expects a file name as a string, got ' .. type(filename), 2)
   end
   if netpbm(filename) then return image.loadPPM(filename, depth, tensortype) end
   local img = newOfType(tensortype)
   local raw = kernel('load', 'load', filename)
   local maxval = torch.type(raw) == 'torch.IntTensor' and 65535 or 255
   img:resize(raw:size()):copy(raw)
   if tensortype ~= 'byte' then img:mul(1 / maxval) end
   return todepth(img, depth)
end
image.loadPNG, image.loadJPG = image.load, image.load

-- image.getSize(filename): a LongTensor {channels, height, width}, from the file's header
function image.getSize(filename)
   if type(filename) ~= 'string' then
      fail('getSize', 'expects a file name as a string, got ' .. type(filename), 2)
   end
   if netpbm(filename) then return kernel('getSize', 'ppm_size', filename) end
   return kernel('getSize', 'size', filename)
end
image.getPNGsize, image.getJPGsize = image.getSize, image.getSize

-- ------------------------------------------------------------------ PPM / PGM (Torch7's libppm)
-- image.loadPPM(filename [, depth [, tensortype]]): P2, P3, P5 and P6 files (image.load
-- reads them by their first bytes too), as libppm reads them: binary samples as stored
-- (16-bit ones low byte first), ASCII ones as 255 * sample / maxval, then / 255 unless
-- 'byte'; loadPGM is the same function, as in Torch7
function image.loadPPM(filename, depth, tensortype)
   if type(filename) ~= 'string' then
      fail('loadPPM', 'expects a file name as a string, got ' .. type(filename), 2)
   end
   local img = newOfType(tensortype)
   local raw = kernel('loadPPM', 'ppm_load', filename)
   img:resize(raw:size()):copy(raw)
   if tensortype ~= 'byte' then img:mul(1 / 255) end
   return todepth(img, depth)
end
image.loadPGM = image.loadPPM

-- image.getPPMsize(filename): channels, height, width (three numbers, as libppm)
function image.getPPMsize(filename)
   if type(filename) ~= 'string' then
      fail('getPPMsize', 'expects a file name as a string, got ' .. type(filename), 2)
   end
   local sz = kernel('getPPMsize', 'ppm_size', filename)
   return sz[1], sz[2], sz[3]
end

-- image.decompress(bytes [, depth [, tensortype]]): a PNG or JPEG held in a 1D ByteTensor
-- (a file's bytes, e.g. a binary column of a DataFrame) decoded as image.load decodes files
function image.decompress(tensor, depth, tensortype)
   if torch.type(tensor) ~= 'torch.ByteTensor' then
      fail('decompress', 'expects the compressed image as a torch.ByteTensor, got ' .. torch.type(tensor), 2)
   end
   if tensor:nElement() < 4 then
      fail('decompress', 'input must be either jpg or png format (' .. tensor:nElement() .. ' bytes)', 2)
   end
   local img = newOfType(tensortype)
   local raw = kernel('decompress', 'load', tensor:contiguous():view(tensor:nElement()))
   local maxval = torch.type(raw) == 'torch.IntTensor' and 65535 or 255
   img:resize(raw:size()):copy(raw)
   if tensortype ~= 'byte' then img:mul(1 / maxval) end
   return todepth(img, depth)
end
image.decompressPNG, image.decompressJPG = image.decompress, image.decompress

local function extension(fname, filename)
   local ext = filename:match('%.(%a+)$')
   ext = ext and ext:lower()
   if ext == 'jpeg' then ext = 'jpg' end
   if ext ~= 'png' and ext ~= 'jpg' and ext ~= 'ppm' and ext ~= 'pgm' then
      fail(fname, 'unknown image type: ' .. tostring(ext) .. ' (png, jpg, jpeg, ppm or pgm expected) in '
         .. filename, 3)
   end
   return ext
end

-- what Torch7 writes: a ByteTensor as it is, any other tensor clamped to [0, 1] and * 255
local function clampImage(tensor)
   if torch.type(tensor) == 'torch.ByteTensor' then return tensor end
   local a = torch.DoubleTensor(tensor:size()):copy(tensor)
   a:clamp(0, 1):mul(255)
   return a
end

local function saveAs(fname, filename, tensor, ext, quality)
   if type(filename) ~= 'string' then
      fail(fname, 'expects a file name as a string, got ' .. type(filename), 3)
   end
   checkImage(fname, tensor, 'the image')
   if tensor:dim() == 3 and tensor:size(1) ~= 1 and tensor:size(1) ~= 3 and tensor:size(1) ~= 4 then
      fail(fname, 'expects 1, 3 or 4 channels, got ' .. tensor:size(1), 3)
   end
   ext = ext or extension(fname, filename)
   if ext == 'ppm' then return image.savePPM(filename, tensor) end
   if ext == 'pgm' then return image.savePGM(filename, tensor) end
   kernel(fname, 'save', filename, clampImage(tensor), ext, quality or 75)
end

-- image.savePPM(filename, 3xHxW) / image.savePGM(filename, HxW or 1xHxW): binary P6 / P5
-- with maxval 255 (floats clamped to [0, 1] and * 255, then truncated, as Torch7)
function image.savePPM(filename, tensor)
   if type(filename) ~= 'string' then
      fail('savePPM', 'expects a file name as a string, got ' .. type(filename), 2)
   end
   if not torch.isTensor(tensor) or tensor:dim() ~= 3 or tensor:size(1) ~= 3 then
      fail('savePPM', 'can only save 3xHxW images as PPM, got ' .. (torch.isTensor(tensor)
         and table.concat(tensor:size():totable(), 'x') or torch.type(tensor)), 2)
   end
   kernel('savePPM', 'ppm_save', filename, clampImage(tensor))
end

function image.savePGM(filename, tensor)
   if type(filename) ~= 'string' then
      fail('savePGM', 'expects a file name as a string, got ' .. type(filename), 2)
   end
   if not torch.isTensor(tensor) or not (tensor:dim() == 2 or (tensor:dim() == 3 and tensor:size(1) == 1)) then
      fail('savePGM', 'can only save 1xHxW or HxW images as PGM, got ' .. (torch.isTensor(tensor)
         and table.concat(tensor:size():totable(), 'x') or torch.type(tensor)), 2)
   end
   kernel('savePGM', 'ppm_save', filename, clampImage(tensor))
end

-- image.compressJPG(tensor [, quality]) / compressPNG(tensor): the encoded file as a 1D ByteTensor
function image.compressJPG(tensor, quality)
   checkImage('compressJPG', tensor, 'the image')
   if quality ~= nil and type(quality) ~= 'number' then
      fail('compressJPG', 'expects quality as a number, got ' .. type(quality), 2)
   end
   return kernel('compressJPG', 'save', nil, clampImage(tensor), 'jpg', quality or 75)
end
function image.compressPNG(tensor)
   checkImage('compressPNG', tensor, 'the image')
   return kernel('compressPNG', 'save', nil, clampImage(tensor), 'png')
end

function image.save(filename, tensor) saveAs('save', filename, tensor) end
function image.savePNG(filename, tensor) saveAs('savePNG', filename, tensor, 'png') end
function image.saveJPG(filename, tensor, quality) saveAs('saveJPG', filename, tensor, 'jpg', quality) end

-- ------------------------------------------------------------------ geometry
local function dims(t)
   if t:dim() == 3 then return t:size(3), t:size(2) end
   return t:size(2), t:size(1)
end

local function sameDepth(fname, src, dst)
   checkImage(fname, dst, 'the destination')
   if dst:dim() ~= src:dim() or (src:dim() == 3 and src:size(1) ~= dst:size(1)) then
      fail(fname, 'src and dst depths do not match', 3)
   end
end

local SCALE = {bilinear = 'scale_bilinear', bicubic = 'scale_bicubic', simple = 'scale_simple'}

-- image.scale(src, width, height [, mode]) | (src, size [, mode]) | (dst, src [, mode]);
-- size is a number (the longer side), 'WxH', '^MIN' (the shorter side), '*SC' or '*N/D'
function image.scale(...)
   local n = select('#', ...)
   local a1, a2, a3, a4 = ...
   local dst, src, width, height, mode, size
   if n == 4 then
      src, width, height, mode = a1, a2, a3, a4
   elseif n == 3 then
      if type(a3) == 'string' then
         if type(a2) == 'string' or type(a2) == 'number' then src, size, mode = a1, a2, a3
         else dst, src, mode = a1, a2, a3 end
      else
         src, width, height = a1, a2, a3
      end
   elseif n == 2 then
      if type(a2) == 'string' or type(a2) == 'number' then src, size = a1, a2
      else dst, src = a1, a2 end
   else
      fail('scale', 'expects (src, width, height [, mode]), (src, size [, mode]) or (dst, src [, mode])', 2)
   end
   checkImage('scale', src, 'src')
   if size ~= nil then
      local iwidth, iheight = dims(src)
      local omax = tonumber(size)
      if omax then
         local imax = math.max(iwidth, iheight)
         width, height = iwidth * omax / imax, iheight * omax / imax
      else
         local w, h = size:match('^(%d+)x(%d+)$')
         if w then
            width, height = tonumber(w), tonumber(h)
         elseif size:match('^%^(%d+)$') then
            local omin = tonumber(size:match('^%^(%d+)$'))
            local imin = math.min(iwidth, iheight)
            width, height = iwidth * omin / imin, iheight * omin / imin
         elseif size:match('^%*(%d+)/(%d+)$') then
            local num, den = size:match('^%*(%d+)/(%d+)$')
            width, height = iwidth * num / den, iheight * num / den
         elseif tonumber(size:match('^%*(.+)$') or '') then
            local sc = tonumber(size:match('^%*(.+)$'))
            width, height = iwidth * sc, iheight * sc
         else
            fail('scale', "could not find valid dest size in '" .. size .. "' (MAX, 'WxH', '^MIN', '*SC' or '*N/D')", 2)
         end
      end
   end
   mode = mode or 'bilinear'
   if not SCALE[mode] then
      fail('scale', "mode must be one of: simple | bicubic | bilinear, got '" .. tostring(mode) .. "'", 2)
   end
   if dst == nil then
      if type(width) ~= 'number' or type(height) ~= 'number' then
         fail('scale', 'expects the width and height as numbers, got ' .. type(width) .. ', ' .. type(height), 2)
      end
      width, height = math.max(math.floor(width), 1), math.max(math.floor(height), 1)
      if src:dim() == 3 then dst = src.new(src:size(1), height, width)
      else dst = src.new(height, width) end
   else
      sameDepth('scale', src, dst)
   end
   if torch.type(dst) ~= torch.type(src) then fail('scale', 'src and dst must have the same type', 2) end
   kernel('scale', SCALE[mode], dst, src)
   return dst
end

-- image.crop([dst,] src, x1, y1 [, x2, y2]) | ([dst,] src, format, width, height) with
-- format 'c' (centre), 'tl', 'tr', 'bl', 'br'; x2, y2 exclusive, all 0-based
function image.crop(...)
   local n = select('#', ...)
   local a = {...}
   local dst, src, x1, y1, x2, y2, format, width, height
   if n == 6 then
      dst, src, x1, y1, x2, y2 = a[1], a[2], a[3], a[4], a[5], a[6]
   elseif n == 5 then
      if type(a[3]) == 'string' then dst, src, format, width, height = a[1], a[2], a[3], a[4], a[5]
      else src, x1, y1, x2, y2 = a[1], a[2], a[3], a[4], a[5] end
   elseif n == 4 then
      if type(a[2]) == 'string' then src, format, width, height = a[1], a[2], a[3], a[4]
      else dst, src, x1, y1 = a[1], a[2], a[3], a[4] end
   elseif n == 3 then
      src, x1, y1 = a[1], a[2], a[3]
   else
      fail('crop', 'expects ([dst,] src, x1, y1 [, x2, y2]) or ([dst,] src, format, width, height)', 2)
   end
   checkImage('crop', src, 'src')
   local iwidth, iheight = dims(src)
   if format then
      checkNumber('crop', width, 'the width'); checkNumber('crop', height, 'the height')
      if format == 'c' then x1, y1 = math.floor((iwidth - width) / 2), math.floor((iheight - height) / 2)
      elseif format == 'tl' then x1, y1 = 0, 0
      elseif format == 'tr' then x1, y1 = iwidth - width, 0
      elseif format == 'bl' then x1, y1 = 0, iheight - height
      elseif format == 'br' then x1, y1 = iwidth - width, iheight - height
      else fail('crop', 'crop format must be "c"|"tl"|"tr"|"bl"|"br", got ' .. tostring(format), 2) end
      x2, y2 = x1 + width, y1 + height
   end
   checkNumber('crop', x1, 'x1'); checkNumber('crop', y1, 'y1')
   x1, y1 = math.floor(x1), math.floor(y1)
   local out
   if x2 == nil then
      -- crop as much as dst holds, from (x1, y1)
      if dst == nil then fail('crop', 'expects a destination or the end corner (x2, y2)', 2) end
      sameDepth('crop', src, dst)
      out = dst
   else
      checkNumber('crop', x2, 'x2'); checkNumber('crop', y2, 'y2')
      local w, h = math.floor(x2) - x1, math.floor(y2) - y1
      if w < 1 or h < 1 then
         fail('crop', string.format('empty crop: (%d, %d) to (%d, %d)', x1, y1, x2, y2), 2)
      end
      if src:dim() == 3 then out = src.new(src:size(1), h, w) else out = src.new(h, w) end
   end
   local ow, oh = dims(out)
   if x1 < 0 or y1 < 0 or x1 + ow > iwidth or y1 + oh > iheight then
      fail('crop', string.format('crop goes outside bounds of src: (%d, %d) to (%d, %d) in a %dx%d image',
         x1, y1, x1 + ow, y1 + oh, iwidth, iheight), 2)
   end
   kernel('crop', 'crop', out, src, x1, y1)
   if x2 ~= nil and dst ~= nil then
      image.scale(dst, out)
      return dst
   end
   return out
end

-- image.translate([dst,] src, x, y): shifted by x columns and y rows, zeros where uncovered
function image.translate(...)
   local n = select('#', ...)
   local dst, src, x, y
   if n == 4 then dst, src, x, y = ...
   elseif n == 3 then src, x, y = ...
   else fail('translate', 'expects ([dst,] src, x, y)', 2) end
   checkImage('translate', src, 'src')
   checkNumber('translate', x, 'x'); checkNumber('translate', y, 'y')
   local function trunc(v) return v >= 0 and math.floor(v) or -math.floor(-v) end
   dst = dst or src.new()
   dst:resizeAs(src)
   kernel('translate', 'translate', dst, src, trunc(x), trunc(y))
   return dst
end

-- image.rotate([dst,] src, theta [, mode]): by theta radians about the centre; mode
-- 'simple' (nearest, the default) or 'bilinear'; corners outside the source are 0
function image.rotate(...)
   local n = select('#', ...)
   local a1, a2, a3, a4 = ...
   local dst, src, theta, mode
   if n == 4 then dst, src, theta, mode = a1, a2, a3, a4
   elseif n == 3 then
      if type(a2) == 'number' then src, theta, mode = a1, a2, a3
      else dst, src, theta = a1, a2, a3 end
   elseif n == 2 then src, theta = a1, a2
   else fail('rotate', 'expects ([dst,] src, theta [, mode])', 2) end
   checkImage('rotate', src, 'src')
   checkNumber('rotate', theta, 'theta (radians)')
   mode = mode or 'simple'
   if mode ~= 'simple' and mode ~= 'bilinear' then
      fail('rotate', "mode must be one of: simple | bilinear, got '" .. tostring(mode) .. "'", 2)
   end
   dst = dst or src.new()
   dst:resizeAs(src)
   if dst:storage() == src:storage() and dst:storageOffset() == src:storageOffset() then
      fail('rotate', 'in-place rotate not supported', 2)
   end
   kernel('rotate', 'rotate', dst, src, theta, mode == 'bilinear')
   return dst
end

local function flipper(fname)
   return function(...)
      local dst, src = dstSrc(fname, ...)
      checkImage(fname, src, 'src')
      dst = dst or src.new()
      if dst ~= src then dst:resizeAs(src) end
      kernel(fname, fname, dst, src)
      return dst
   end
end
image.hflip = flipper('hflip')
image.vflip = flipper('vflip')

-- ------------------------------------------------------------------ warp, affinetransform
local WARP_MODES = {simple = true, bilinear = true, bicubic = true, lanczos = true}

-- the options both take after their tensors: mode, a 4th option, clamp_mode, pad_value
local function warpOptions(fname, mode, clamp_mode, pad_value, npad)
   mode = mode or 'bilinear'
   if not WARP_MODES[mode] then
      fail(fname, "mode must be one of: lanczos | bicubic | bilinear | simple, got '" .. tostring(mode) .. "'", 3)
   end
   clamp_mode = clamp_mode or 'clamp'
   if clamp_mode ~= 'clamp' and clamp_mode ~= 'pad' then
      fail(fname, "clamp_mode must be one of: clamp | pad, got '" .. tostring(clamp_mode) .. "'", 3)
   end
   if npad then
      if clamp_mode ~= 'pad' then fail(fname, 'pad_value can only be specified if clamp_mode = "pad"', 3) end
      checkNumber(fname, pad_value, 'pad_value')
   end
   return mode, clamp_mode == 'pad', pad_value or 0
end

-- (dst, src, second tensor, options...) from ([dst,] src, tensor [, options...])
local function warpArgs(fname, ...)
   local n = select('#', ...)
   local a = {...}
   if n >= 3 and torch.isTensor(a[3]) then
      if n > 7 then fail(fname, 'expects at most 7 arguments, got ' .. n, 3) end
      return a[1], a[2], a[3], a[4], a[5], a[6], a[7], n >= 7
   end
   if n < 2 then fail(fname, 'expects ([dst,] src, ' .. (fname == 'warp' and 'field' or 'matrix')
      .. ' [, mode, ...])', 3) end
   if n > 6 then fail(fname, 'expects at most 6 arguments without a destination, got ' .. n, 3) end
   return nil, a[1], a[2], a[3], a[4], a[5], a[6], n >= 6
end

local function warpInto(fname, dst, src, field, mode, offset, pad, padValue)
   local dim2 = src:dim() == 2
   if dim2 then src = src:view(1, src:size(1), src:size(2)) end
   if torch.type(field) ~= torch.type(src) then
      fail(fname, 'the flow field must have the type of src (' .. torch.type(src) .. '), got ' .. torch.type(field), 3)
   end
   dst = dst or src.new()
   if torch.type(dst) ~= torch.type(src) then
      fail(fname, 'dst must have the type of src (' .. torch.type(src) .. '), got ' .. torch.type(dst), 3)
   end
   dst:resize(src:size(1), field:size(2), field:size(3))
   if dst:nElement() > 0 and dst:storage() == src:storage() then
      fail(fname, 'dst and src must not share memory', 3)
   end
   kernel(fname, 'warp', dst, src, field, mode, offset, pad, padValue)
   if dim2 then return dst[1] end
   return dst
end

-- image.warp([dst,] src, field [, mode [, offset_mode [, clamp_mode [, pad_value]]]]):
-- dst (K x H x W) samples src (K x h x w, or h x w) at the (y, x) of the flow field
-- (2 x H x W; relative to each pixel when offset_mode, the default); mode 'bilinear'
-- (default), 'simple', 'bicubic' or 'lanczos'; positions outside src are clamped to its
-- border ('clamp', default) or give pad_value ('pad')
function image.warp(...)
   local dst, src, field, mode, offset, clamp_mode, pad_value, npad = warpArgs('warp', ...)
   checkImage('warp', src, 'src')
   checkImage('warp', field, 'the flow field', 3)
   if field:size(1) ~= 2 then
      fail('warp', 'expects the flow field as 2 x height x width ((y, x) offsets), got '
         .. table.concat(field:size():totable(), 'x'), 2)
   end
   if dst ~= nil and not torch.isTensor(dst) then
      fail('warp', 'expects dst as a tensor, got ' .. torch.type(dst), 2)
   end
   local m, pad, pv = warpOptions('warp', mode, clamp_mode, pad_value, npad)
   if offset == nil then offset = true end
   return warpInto('warp', dst, src, field, m, offset and true or false, pad, pv)
end

-- image.affinetransform([dst,] src, matrix [, mode [, translation [, clamp_mode [, pad_value]]]]):
-- src transformed by the 2x2 (y, x) matrix about its centre, after the (y, x) translation
function image.affinetransform(...)
   local dst, src, matrix, mode, translation, clamp_mode, pad_value, npad = warpArgs('affinetransform', ...)
   checkImage('affinetransform', src, 'src')
   checkImage('affinetransform', matrix, 'the matrix', 2)
   if matrix:size(1) ~= 2 or matrix:size(2) ~= 2 then
      fail('affinetransform', 'expects a 2x2 matrix, got ' .. matrix:size(1) .. 'x' .. matrix:size(2), 2)
   end
   if dst ~= nil and not torch.isTensor(dst) then
      fail('affinetransform', 'expects dst as a tensor, got ' .. torch.type(dst), 2)
   end
   local m, pad, pv = warpOptions('affinetransform', mode, clamp_mode, pad_value, npad)
   translation = translation or {0, 0}
   if type(translation) == 'table' then translation = torch.Tensor(translation) end
   if not torch.isTensor(translation) or translation:nElement() ~= 2 then
      fail('affinetransform', 'expects the translation as {y, x} (a table or tensor of 2 numbers)', 2)
   end
   local height, width = src:size(src:dim() - 1), src:size(src:dim())
   if height < 2 or width < 2 then
      fail('affinetransform', 'expects an image of at least 2x2 pixels, got ' .. height .. 'x' .. width, 2)
   end
   -- the field in the default tensor type, as Torch7 builds it
   local grid = torch.Tensor(2, height, width)
   grid[1]:copy(torch.ger(torch.linspace(-1, 1, height), torch.ones(width))):mul(-(height - 1) / 2)
   grid[2]:copy(torch.ger(torch.ones(height), torch.linspace(-1, 1, width))):mul(-(width - 1) / 2)
   local moved = torch.mm(matrix:typeAs(grid), grid:view(2, height * width)):view(2, height, width)
   local field = grid - moved
   local tr = translation:typeAs(grid):view(2)
   field[1]:add(-tr[1])
   field[2]:add(-tr[2])
   return warpInto('affinetransform', dst, src, field:type(torch.type(src)), m, true, pad, pv)
end

-- ------------------------------------------------------------------ colour spaces
local function colour(fname, kname, outChannels)
   return function(...)
      local dst, src = dstSrc(fname, ...)
      checkImage(fname, src, 'src', 3)
      if src:size(1) < 3 then fail(fname, 'expects 3 channels, got ' .. src:size(1), 2) end
      dst = dst or src.new()
      if outChannels == 1 then
         dst:resize(1, src:size(2), src:size(3))
         kernel(fname, kname, dst[1], src)
      else
         dst:resizeAs(src)
         kernel(fname, kname, dst, src)
      end
      return dst
   end
end
image.rgb2yuv = colour('rgb2yuv', 'rgb2yuv')
image.yuv2rgb = colour('yuv2rgb', 'yuv2rgb')
image.rgb2y = colour('rgb2y', 'rgb2y', 1)
image.rgb2hsl = colour('rgb2hsl', 'rgb2hsl')
image.hsl2rgb = colour('hsl2rgb', 'hsl2rgb')
image.rgb2lab = colour('rgb2lab', 'rgb2lab')
image.lab2rgb = colour('lab2rgb', 'lab2rgb')
image.rgb2hsv = colour('rgb2hsv', 'rgb2hsv')
image.hsv2rgb = colour('hsv2rgb', 'hsv2rgb')

-- image.rgb2nrgb([dst,] src): normalised RGB, each channel over (R + G + B + 1e-6)
image.rgb2nrgb = colour('rgb2nrgb', 'rgb2nrgb')

-- ------------------------------------------------------------------ kernels
-- image.gaussian([size] | {size=, sigma=, amplitude=, normalize=, width=, height=,
-- sigma_horz=, sigma_vert=, mean_horz=, mean_vert=, tensor=}): a 2D gaussian kernel
function image.gaussian(...)
   local _, size, sigma, amplitude, normalize, width, height, sigma_horz, sigma_vert, mean_horz, mean_vert,
      tensor = xlua.unpack({...}, 'image.gaussian', 'returns a 2D gaussian kernel',
      {arg = 'size', type = 'number', help = 'kernel size (size x size)', default = 3},
      {arg = 'sigma', type = 'number', help = 'sigma (horizontal and vertical)', default = 0.25},
      {arg = 'amplitude', type = 'number', help = 'amplitute of the gaussian (max value)', default = 1},
      {arg = 'normalize', type = 'number', help = 'normalize kernel (exc Amplitude)', default = false},
      {arg = 'width', type = 'number', help = 'kernel width', defaulta = 'size'},
      {arg = 'height', type = 'number', help = 'kernel height', defaulta = 'size'},
      {arg = 'sigma_horz', type = 'number', help = 'horizontal sigma', defaulta = 'sigma'},
      {arg = 'sigma_vert', type = 'number', help = 'vertical sigma', defaulta = 'sigma'},
      {arg = 'mean_horz', type = 'number', help = 'horizontal mean', default = 0.5},
      {arg = 'mean_vert', type = 'number', help = 'vertical mean', default = 0.5},
      {arg = 'tensor', type = 'torch.Tensor', help = 'result tensor (height/width are ignored)'})
   if tensor then
      if not torch.isTensor(tensor) or tensor:dim() ~= 2 or tensor:nElement() == 0 then
         fail('gaussian', 'expects tensor= as a non-empty 2D tensor', 2)
      end
   end
   local gauss = tensor or torch.Tensor(height, width)
   kernel('gaussian', 'gaussian', gauss, amplitude, normalize and true or false, sigma_horz, sigma_vert,
      mean_horz, mean_vert)
   return gauss
end

function image.gaussian1D(...)
   local _, size, sigma, amplitude, normalize, mean, tensor = xlua.unpack({...}, 'image.gaussian1D',
      'returns a 1D gaussian kernel',
      {arg = 'size', type = 'number', help = 'size the kernel', default = 3},
      {arg = 'sigma', type = 'number', help = 'Sigma', default = 0.25},
      {arg = 'amplitude', type = 'number', help = 'Amplitute of the gaussian (max value)', default = 1},
      {arg = 'normalize', type = 'number', help = 'Normalize kernel (exc Amplitude)', default = false},
      {arg = 'mean', type = 'number', help = 'Mean', default = 0.5},
      {arg = 'tensor', type = 'torch.Tensor', help = 'result tensor (size is ignored)'})
   if tensor then
      if not torch.isTensor(tensor) or tensor:dim() ~= 1 or tensor:nElement() == 0 then
         fail('gaussian1D', 'expects tensor= as a non-empty 1D tensor', 2)
      end
      size = tensor:size(1)
   end
   local center = mean * size + 0.5
   local gauss = tensor or torch.Tensor(size)
   for i = 1, size do
      gauss[i] = amplitude * math.exp(-(math.pow((i - center) / (sigma * size), 2) / 2))
   end
   if normalize then gauss:div(gauss:sum()) end
   return gauss
end

-- image.convolve([dst,] src, kernel [, mode]): mode 'valid' (default), 'full' or 'same'
function image.convolve(...)
   local n = select('#', ...)
   local a1, a2, a3, a4 = ...
   local dst, src, k, mode
   if n == 4 then dst, src, k, mode = a1, a2, a3, a4
   elseif n == 3 then
      if type(a3) == 'string' then src, k, mode = a1, a2, a3
      else dst, src, k = a1, a2, a3 end
   elseif n == 2 then src, k = a1, a2
   else fail('convolve', 'expects ([dst,] src, kernel [, mode])', 2) end
   checkImage('convolve', src, 'src')
   checkImage('convolve', k, 'the kernel')
   if mode and mode ~= 'valid' and mode ~= 'full' and mode ~= 'same' then
      fail('convolve', "mode has to be one of: full | valid | same, got '" .. tostring(mode) .. "'", 2)
   end
   local md = (mode == 'full' or mode == 'same') and 'F' or 'V'
   if k:dim() == 2 and src:dim() == 3 then
      local k3 = src.new(src:size(1), k:size(1), k:size(2))
      for i = 1, src:size(1) do k3[i]:copy(k) end
      k = k3
   end
   if dst then torch.conv2(dst, src, k, md)
   else dst = torch.conv2(src, k, md) end
   if mode == 'same' then
      local cx = dst:dim()
      local cy = cx - 1
      local ofy = math.ceil(k:size(cy) / 2)
      local ofx = math.ceil(k:size(cx) / 2)
      dst = dst:narrow(cy, ofy, src:size(cy)):narrow(cx, ofx, src:size(cx))
   end
   return dst
end

-- image.minmax{tensor=, min=, max=, symm=, inplace=, saturate=, tensorOut=}: rescaled so
-- that min..max (default: the tensor's own range) maps to 0..1
function image.minmax(args)
   if type(args) ~= 'table' or not torch.isTensor(args.tensor) then
      fail('minmax', 'expects a table {tensor=, min=, max=, symm=, inplace=, saturate=, tensorOut=}', 2)
   end
   local tensor, min, max = args.tensor, args.min, args.max
   local saturate = args.saturate or false
   local out = args.tensorOut or (args.inplace and tensor) or torch.Tensor(tensor:size()):copy(tensor)
   if args.tensorOut then out:resize(tensor:size()):copy(tensor) end
   if min == nil and max == nil then saturate = false end
   local fmin = 0
   if min == nil then
      if args.symm then
         fmin = math.max(math.abs(out:min()), math.abs(out:max()))
         min = -fmin
      else
         min = out:min()
      end
   end
   if min ~= 0 then out:add(-min) end
   if max == nil then
      max = args.symm and fmin * 2 or out:max()
   else
      max = max - min
   end
   if max ~= 0 then out:div(max) end
   if saturate then out:clamp(0, 1) end
   return out
end

-- image.lcn(im [, kernel]): local contrast normalisation of a grey image (HxW or 1xHxW),
-- as Torch7: standardised by its mean and std, then each pixel's neighbourhood (a 9x9
-- normalised gaussian by default) mean subtracted and divided by its std (at least 1);
-- a DoubleTensor (H - kh + 1) x (W - kw + 1)
function image.lcn(im, ker)
   checkImage('lcn', im, 'the image')
   if not (im:dim() == 2 or (im:dim() == 3 and im:size(1) == 1)) then
      fail('lcn', 'grayscale image expected (HxW or 1xHxW), got ' .. table.concat(im:size():totable(), 'x'), 2)
   end
   ker = ker or image.gaussian({size = 9, sigma = 1.591 / 9, normalize = true})
   checkImage('lcn', ker, 'the kernel', 2)
   ker = ker:type('torch.DoubleTensor')
   local x = im:clone():type('torch.DoubleTensor')
   if x:dim() == 3 then x = x[1] end
   if x:size(1) < ker:size(1) or x:size(2) < ker:size(2) then
      fail('lcn', string.format('the image (%dx%d) is smaller than the kernel (%dx%d)',
         x:size(1), x:size(2), ker:size(1), ker:size(2)), 2)
   end
   local mean, std = x:mean(), x:std()
   x:add(-mean)
   x:div(std)
   local lmn = torch.conv2(x, ker)
   local lmnsq = torch.conv2(torch.cmul(x, x), ker)
   local lvar = torch.cmul(lmn, lmn):add(-1, lmnsq):mul(-1)
   lvar[torch.lt(lvar, 0)] = 0                -- rounding can make it slightly negative
   local lstd = lvar:sqrt()
   lstd[torch.lt(lstd, 1)] = 1
   local si, sj = math.floor(ker:size(1) / 2) + 1, math.floor(ker:size(2) / 2) + 1
   local out = x:narrow(1, si, lstd:size(1)):narrow(2, sj, lstd:size(2)):clone()
   out:add(-1, lmn)
   out:cdiv(lstd)
   return out
end

-- ------------------------------------------------------------------ polar, morphology, drawing
-- image.polar([dst,] src [, interp [, mode]]) and image.logpolar(...): src resampled on a
-- (log-)polar grid around its centre, rows the angles, columns the radii; interp 'simple'
-- (nearest) or 'bilinear', mode 'valid' (radius up to half the smaller side) or 'full'
-- (half the diagonal); dst defaults to depth x max(H, W) x max(H, W). The defaults are the
-- documented ones (simple, valid): Torch7's own Lua swapped them, so that its polar(src)
-- raised an error.
local function polarFn(fname, log)
   return function(...)
      local n = select('#', ...)
      local a1, a2, a3, a4 = ...
      local dst, src, interp, mode
      if n == 4 then dst, src, interp, mode = a1, a2, a3, a4
      elseif n == 3 then
         if type(a2) == 'string' then src, interp, mode = a1, a2, a3 else dst, src, interp = a1, a2, a3 end
      elseif n == 2 then
         if type(a2) == 'string' then src, interp = a1, a2 else dst, src = a1, a2 end
      elseif n == 1 then src = a1
      else fail(fname, 'expects ([dst,] src [, interp [, mode]])', 2) end
      checkImage(fname, src, 'src')
      interp, mode = interp or 'simple', mode or 'valid'
      if interp ~= 'simple' and interp ~= 'bilinear' then
         fail(fname, "interpolation must be one of: simple | bilinear, got '" .. tostring(interp) .. "'", 2)
      end
      if mode ~= 'valid' and mode ~= 'full' then
         fail(fname, "mode must be one of: valid | full, got '" .. tostring(mode) .. "'", 2)
      end
      local d = src:dim()
      if dst == nil then
         local maxDist = math.max(src:size(d - 1), src:size(d))
         dst = src.new()
         if d == 3 then dst:resize(src:size(1), maxDist, maxDist) else dst:resize(maxDist, maxDist) end
      end
      checkImage(fname, dst, 'dst')
      if dst:dim() ~= d or (d == 3 and dst:size(1) ~= src:size(1)) then
         fail(fname, 'src and dst depths do not match', 2)
      end
      kernel(fname, 'polar', dst, src, mode == 'full', log, interp == 'bilinear')
      return dst
   end
end
image.polar = polarFn('polar', false)
image.logpolar = polarFn('logpolar', true)

-- image.erode(im [, kern = 3x3 ones, pad = 1]) and image.dilate(im [, kern, pad = 0]): the
-- morphology of a binary (0/1) H x W image with an odd-sized 0/1 kernel, pixels beyond the
-- border taken as pad; erosion keeps a pixel where the kernel's convolution (torch.conv2)
-- sums to the kernel's count, dilation where the flipped kernel's is positive.
local function morphology(fname, dilate)
   return function(im, kern, pad)
      checkImage(fname, im, 'the image', 2)
      if kern ~= nil then checkImage(fname, kern, 'the kernel', 2) end
      kern = kern or torch.ones(3, 3):typeAs(im)
      if kern:size(1) % 2 == 0 or kern:size(2) % 2 == 0 then
         fail(fname, 'expects a kernel of odd sizes, got ' .. kern:size(1) .. 'x' .. kern:size(2), 2)
      end
      if pad ~= nil then checkNumber(fname, pad, 'pad') end
      pad = pad or (dilate and 0 or 1)
      kern = kern:typeAs(im)
      if dilate then kern = image.hflip(image.vflip(kern)) end
      local hpad, wpad = (kern:size(1) - 1) / 2, (kern:size(2) - 1) / 2
      local padded = im.new(im:size(1) + 2 * hpad, im:size(2) + 2 * wpad):fill(pad)
      padded:narrow(1, hpad + 1, im:size(1)):narrow(2, wpad + 1, im:size(2)):copy(im)
      local conv = torch.conv2(padded, kern)
      if dilate then return torch.gt(conv, 0):typeAs(im) end
      return torch.eq(conv, kern:sum()):typeAs(im)
   end
end
image.erode = morphology('erode', false)
image.dilate = morphology('dilate', true)

local function checkColourImage(fname, src)
   if not torch.isTensor(src) or src:dim() ~= 3 or src:size(1) ~= 3 then
      fail(fname, 'input image has to be a 3D tensor of shape 3 x H x W, got '
           .. (torch.isTensor(src) and table.concat(src:size():totable(), 'x') or torch.type(src)), 3)
   end
end

-- image.drawRect(src, x1, y1, x2, y2 [, {color = {r, g, b} (0..255, red), lineWidth = 1,
-- inplace = false}]): the rectangle's outline on a copy of the 3 x H x W image (or on it,
-- inplace); x and y are taken as torch/image's C code takes them (0-based pixels)
function image.drawRect(src, x1, y1, x2, y2, opts)
   checkColourImage('drawRect', src)
   opts = opts or {}
   local out = opts.inplace and src or src:clone()
   if not (x1 and x2 and y1 and y2) then return out end
   for i, v in ipairs({x1, y1, x2, y2}) do checkNumber('drawRect', v, ({'x1', 'y1', 'x2', 'y2'})[i]) end
   local color = opts.color or {255, 0, 0}
   local function int(v) return v >= 0 and math.floor(v) or -math.floor(-v) end
   kernel('drawRect', 'draw_rect', out, int(x1), int(y1), int(x2), int(y2), int(opts.lineWidth or 1),
          int(color[1]), int(color[2]), int(color[3]))
   return out
end

-- ------------------------------------------------------------------ colour maps, kernels
-- image.colormap(n): n x 3 RGB colours spaced around the hue wheel (hue += 39 degrees,
-- saturation 0.3 + (k / 9 mod 0.7), lightness 0.5), as torch/image builds them
function image.colormap(nbColor)
   checkNumber('colormap', nbColor, 'the number of colours')
   local map = torch.Tensor(nbColor, 3)
   local huef, satf = 0, 0
   for i = 1, nbColor do
      local hue = math.fmod(huef, 360)
      local sat = math.fmod(satf, 0.7) + 0.3
      local light = 0.5
      huef, satf = huef + 39, satf + 1 / 9
      local c = (1 - math.abs(2 * light - 1)) * sat
      local hp = hue / 60
      local x = c * (1 - math.abs(math.fmod(hp, 2) - 1))
      local r, g, b
      if hp < 1 then r, g, b = c, x, 0
      elseif hp < 2 then r, g, b = x, c, 0
      elseif hp < 3 then r, g, b = 0, c, x
      elseif hp < 4 then r, g, b = 0, x, c
      elseif hp < 5 then r, g, b = x, 0, c
      else r, g, b = c, 0, x end
      local m = light - c / 2
      map[i][1], map[i][2], map[i][3] = r + m, g + m, b + m
   end
   return map
end

-- image.jetColormap(n): n x 3 colours of the jet map (blue through red)
function image.jetColormap(nbColor)
   checkNumber('jetColormap', nbColor, 'the number of colours')
   local map = torch.Tensor(nbColor, 3)
   for i = 1, nbColor do
      local f = 4 * i / nbColor
      map[i][1] = math.max(math.min(f - 1.5, -f + 4.5, 1), 0)
      map[i][2] = math.max(math.min(f - 0.5, -f + 3.5, 1), 0)
      map[i][3] = math.max(math.min(f + 0.5, -f + 2.5, 1), 0)
   end
   return map
end

-- image.y2jet([dst,] src): a greyscale image of levels 1..L (H x W, 1 x H x W or a vector)
-- coloured by image.jetColormap(L), L its maximum; 3 x H x W (bytes: 0..255)
function image.y2jet(...)
   local dst, src = dstSrc('y2jet', ...)
   if not torch.isTensor(src) then fail('y2jet', 'expects src as a tensor, got ' .. torch.type(src), 2) end
   if src:dim() == 3 and src:size(1) == 1 then src = src[1] end
   if src:dim() == 1 then src = src:view(1, src:size(1)) end
   checkImage('y2jet', src, 'src', 2)
   local levels = src:max()
   local map = image.jetColormap(levels)
   if torch.type(src) == 'torch.ByteTensor' then
      map = map:mul(255):round():clamp(0, 255):byte()
   else
      map = map:typeAs(src)
   end
   local idx = src:long():view(-1)
   if idx:min() < 1 then
      fail('y2jet', 'expects levels 1..L, got ' .. idx:min(), 2)
   end
   dst = dst or src.new()
   dst:resize(3, src:size(1), src:size(2))
   dst:copy(map:index(1, idx):t():contiguous():view(3, src:size(1), src:size(2)))
   return dst
end

-- image.laplacian([size] | {size=, sigma=0.1, amplitude=, normalize=, width=, height=,
-- sigma_horz=, sigma_vert=, mean_horz=, mean_vert=}): a 2D Laplacian-of-Gaussian kernel,
-- element (i, j) from (i - cx) / (sigma_horz width) and (j - cy) / (sigma_vert height) as
-- torch/image writes it (rows against the horizontal centre)
function image.laplacian(...)
   local _, size, sigma, amplitude, normalize, width, height, sigma_horz, sigma_vert, mean_horz, mean_vert =
      xlua.unpack({...}, 'image.laplacian', 'returns a 2D Laplacian kernel',
      {arg = 'size', type = 'number', help = 'kernel size (size x size)', default = 3},
      {arg = 'sigma', type = 'number', help = 'sigma (horizontal and vertical)', default = 0.1},
      {arg = 'amplitude', type = 'number', help = 'amplitute of the Laplacian (max value)', default = 1},
      {arg = 'normalize', type = 'number', help = 'normalize kernel (exc Amplitude)', default = false},
      {arg = 'width', type = 'number', help = 'kernel width', defaulta = 'size'},
      {arg = 'height', type = 'number', help = 'kernel height', defaulta = 'size'},
      {arg = 'sigma_horz', type = 'number', help = 'horizontal sigma', defaulta = 'sigma'},
      {arg = 'sigma_vert', type = 'number', help = 'vertical sigma', defaulta = 'sigma'},
      {arg = 'mean_horz', type = 'number', help = 'horizontal mean', default = 0.5},
      {arg = 'mean_vert', type = 'number', help = 'vertical mean', default = 0.5})
   local cx, cy = mean_horz * width + 0.5, mean_vert * height + 0.5
   local k = torch.Tensor(height, width)
   for i = 1, height do
      for j = 1, width do
         local xsq = ((i - cx) / (sigma_horz * width)) ^ 2 / 2
         local ysq = ((j - cy) / (sigma_vert * height)) ^ 2 / 2
         k[i][j] = (1 - (xsq + ysq)) * amplitude * math.exp(-(xsq + ysq))
      end
   end
   if normalize then k:div(k:sum()) end
   return k
end

-- image.gaussianpyramid([dst,] src, scales): a list of src scaled by each factor (nearest,
-- 'simple'), each level made from the previous level smoothed by a normalised 3x3 gaussian
-- (image.convolve 'same'); sizes truncated as Torch7's resize truncates them
function image.gaussianpyramid(...)
   local n = select('#', ...)
   local dst, src, scales
   if n == 3 then dst, src, scales = ...
   elseif n == 2 then src, scales = ...; dst = {}
   else fail('gaussianpyramid', 'expects ([dst,] src, scales)', 2) end
   checkImage('gaussianpyramid', src, 'src')
   if type(scales) ~= 'table' then
      fail('gaussianpyramid', 'expects the scales as a list of numbers, got ' .. type(scales), 2)
   end
   local d = src:dim()
   for i, s in ipairs(scales) do
      dst[i] = dst[i] or src.new()
      local h, w = math.floor(src:size(d - 1) * s), math.floor(src:size(d) * s)
      if d == 3 then dst[i]:resize(src:size(1), h, w) else dst[i]:resize(h, w) end
   end
   local k = image.gaussian{width = 3, normalize = true}:typeAs(src)
   local tmp = src
   for i, s in ipairs(scales) do
      if s == 1 then dst[i]:copy(tmp) else image.scale(dst[i], tmp, 'simple') end
      tmp = image.convolve(dst[i], k, 'same')
   end
   return dst
end

-- ------------------------------------------------------------------ flip, grids, file types
-- image.flip([dst,] src, dim): src (up to 5D, contiguous) reversed along dimension dim
function image.flip(...)
   local n = select('#', ...)
   local dst, src, dim
   if n == 3 then dst, src, dim = ...
   elseif n == 2 then src, dim = ...
   else fail('flip', 'expects ([dst,] src, flip_dim)', 2) end
   if not torch.isTensor(src) then fail('flip', 'expects src as a tensor, got ' .. torch.type(src), 2) end
   if src:dim() > 5 then fail('flip', 'too many input dims (up to 5D supported), got ' .. src:dim(), 2) end
   if type(dim) ~= 'number' or dim < 1 or dim > src:dim() then
      fail('flip', string.format('bad flip dimension %s for a %dD tensor', tostring(dim), src:dim()), 2)
   end
   if not src:isContiguous() then fail('flip', 'input tensor is not contiguous', 2) end
   local size = src:size(dim)
   local idx = torch.LongTensor(size)
   for i = 1, size do idx[i] = size - i + 1 end
   local res = src:index(dim, idx)
   dst = dst or src.new()
   dst:resizeAs(src):copy(res)
   return dst
end

-- image.toDisplayTensor(input | {input=, padding=0, nrow=6, scaleeach=false, min=, max=,
-- symmetric=false, saturate=true}): a list or pack of images (K x H x W, K x 3 x H x W, a
-- table) laid out as one grid image (rows of nrow, padding pixels apart, the gaps filled
-- with the maximum), rescaled by image.minmax (all together, or each with scaleeach)
function image.toDisplayTensor(...)
   local _, input, padding, nrow, scaleeach, min, max, symm, saturate = xlua.unpack({...},
      'image.toDisplayTensor', 'given a pack of tensors, returns a single tensor that contains a grid of all in the pack',
      {arg = 'input', type = 'torch.Tensor | table', help = 'input (HxW or KxHxW or Kx3xHxW or list)', req = true},
      {arg = 'padding', type = 'number', help = 'number of padding pixels between images', default = 0},
      {arg = 'nrow', type = 'number', help = 'number of images per row', default = 6},
      {arg = 'scaleeach', type = 'boolean', help = 'individual scaling for list of images', default = false},
      {arg = 'min', type = 'number', help = 'lower-bound for range'},
      {arg = 'max', type = 'number', help = 'upper-bound for range'},
      {arg = 'symmetric', type = 'boolean', help = 'symmetric dynamic range', default = false},
      {arg = 'saturate', type = 'boolean', help = 'saturate', default = true})
   local packed = torch.Tensor()
   if type(input) == 'table' and not torch.typename(input) then
      if #input == 0 or not torch.isTensor(input[1]) then
         fail('toDisplayTensor', 'expects a non-empty list of image tensors', 2)
      end
      local nd = input[1]:dim()
      local ch = nd == 2 and 1 or input[1]:size(1)
      packed:resize(#input, ch, input[1]:size(nd - 1), input[1]:size(nd))
      for i, img in ipairs(input) do packed[i]:copy(img) end
   elseif torch.isTensor(input) then
      packed:resize(input:size()):copy(input)
   else
      fail('toDisplayTensor', 'unknown or incompatible type of input: ' .. torch.type(input), 2)
   end
   local mm = {inplace = true, min = min, max = max, symm = symm, saturate = saturate}
   local function minmax(t) mm.tensor = t; image.minmax(mm) end
   local colourPack = packed:dim() == 4 and (packed:size(2) == 3 or packed:size(2) == 1)
   if scaleeach and (colourPack or (packed:dim() == 3 and packed:size(1) ~= 1 and packed:size(1) ~= 3)) then
      for i = 1, packed:size(1) do minmax(packed[i]) end
   end
   if packed:dim() == 2 or (packed:dim() == 3 and (packed:size(1) == 1 or packed:size(1) == 3)) then
      minmax(packed)
      return packed
   end
   if not colourPack and packed:dim() ~= 3 then
      fail('toDisplayTensor', 'packed must be a HxW or KxHxW or Kx3xHxW tensor, or a list of tensors', 2)
   end
   local lead = colourPack and 1 or 0            -- the channel dimension of the grid, if any
   local nmaps = packed:size(1)
   local xmaps = math.min(nrow, nmaps)
   local ymaps = math.ceil(nmaps / xmaps)
   local height = packed:size(lead + 2) + padding
   local width = packed:size(lead + 3) + padding
   local grid = torch.Tensor()
   if colourPack then grid:resize(packed:size(2), height * ymaps, width * xmaps)
   else grid:resize(height * ymaps, width * xmaps) end
   grid:fill(packed:max())
   local k = 1
   for y = 1, ymaps do
      for x = 1, xmaps do
         if k > nmaps then break end
         grid:narrow(lead + 1, math.floor((y - 1) * height + 1 + padding / 2), math.floor(height - padding))
             :narrow(lead + 2, math.floor((x - 1) * width + 1 + padding / 2), math.floor(width - padding))
             :copy(packed[k])
         k = k + 1
      end
   end
   if not scaleeach then minmax(grid) end
   return grid
end

-- image.supported_filetypes (by suffix, each {loader=, saver=}) and image.is_supported(suffix)
image.supported_filetypes = {
   jpg = {loader = image.loadJPG, saver = image.saveJPG},
   png = {loader = image.loadPNG, saver = image.savePNG},
   ppm = {loader = image.loadPPM, saver = image.savePPM},
   pgm = {loader = image.loadPPM, saver = image.savePGM},
}
for alias, suffix in pairs({JPG = 'jpg', JPEG = 'jpg', jpeg = 'jpg', PNG = 'png', PPM = 'ppm', PGM = 'pgm'}) do
   image.supported_filetypes[alias] = image.supported_filetypes[suffix]
end
function image.is_supported(suffix)
   return image.supported_filetypes[suffix] ~= nil
end

-- image.display / image.window opened qt windows: there is no display here
local function noDisplay(fname)
   return function()
      fail(fname, 'opens a window (qt) in Torch7: there is no display in sparktorch7; save the image '
           .. 'with image.save, or build a grid with image.toDisplayTensor', 2)
   end
end
image.display = noDisplay('display')
image.window = noDisplay('window')

-- what torch/image has and sparktorch7 does not: a clear error instead of "attempt to call nil"
local function notShipped(fname, why)
   image[fname] = function() fail(fname, why, 2) end
end
notShipped('drawText', "is not available in sparktorch7: it draws with torch/image's own bitmap font, "
           .. 'which is not shipped (image.drawRect is)')
notShipped('lena', "loads the sample image bundled with torch/image, which sparktorch7 does not ship: "
           .. 'load an image file with image.load')
notShipped('fabio', "loads the sample image bundled with torch/image, which sparktorch7 does not ship: "
           .. 'load an image file with image.load')

rawset(_G, 'image', image)
return image
