"""The billing rules as pure functions over integers: no storage, no runtime, no clocks.

Units everywhere: energy in Wh, power in W, money in kopecks, prices in milli-kopecks per kWh (or per kW of
capacity per month), so `Wh * price` is an exact amount in micro-kopecks, rounded once to the kopeck by
`rounding.kopecks`. Dates are `yyyymmdd` integers, billing periods `yyyymm` integers, times UTC seconds with the
local offset given as data."""
