-- IEEE half floats (2 bytes): the format of Torch7's HalfStorage in .t7 files. Here a
-- HalfTensor holds floats in memory, rounded to the nearest half (docs/design-tensor.md).
local bit = require('bit')

local half = {}

local function halfToFloat(h)
   local sign = bit.band(h, 0x8000) ~= 0
   local e = bit.band(bit.rshift(h, 10), 0x1f)
   local m = bit.band(h, 0x3ff)
   local v
   if e == 0 then
      v = math.ldexp(m, -24)
   elseif e == 31 then
      v = (m == 0) and math.huge or (0 / 0)
   else
      v = math.ldexp(m + 1024, e - 25)
   end
   return sign and -v or v
end

-- the IEEE half nearest to x (ties to even), as a uint16 bit pattern
local function floatToHalf(x)
   local sign = 0
   if x < 0 or (x == 0 and 1 / x < 0) then sign, x = 0x8000, -x end
   if x ~= x then return 0x7e00 end
   if x == 0 then return sign end
   if x >= 65520 then return sign + 0x7c00 end          -- rounds past the largest half
   local m, e = math.frexp(x)                          -- x = m * 2^e, 0.5 <= m < 1
   local bits
   if e < -13 then                                     -- subnormal: units of 2^-24
      bits = x * 16777216
   else                                                -- 11 significant bits
      bits = m * 2048
   end
   local r = math.floor(bits)
   local frac = bits - r
   if frac > 0.5 or (frac == 0.5 and r % 2 == 1) then r = r + 1 end
   if e < -13 then return sign + r end                 -- r == 1024 is the smallest normal
   -- normal: r in [1024, 2048]; exponent field e + 14
   if r == 2048 then r, e = 1024, e + 1 end
   return sign + bit.lshift(e + 14, 10) + (r - 1024)
end

half.toFloat, half.fromFloat = halfToFloat, floatToHalf

-- x rounded to the nearest half's value (ties to even; inf past the largest half)
function half.round(x)
   return halfToFloat(floatToHalf(x))
end

return half
