-- Ferrokey's script sandbox. Runs once per Lua state, before any user
-- code, with the real globals table G and `errtext`, which reads the text
-- of an error raised by a Rust function. Returns the table scripts see as
-- their globals.
--
-- Redis locks its globals and library tables with a patched Lua; stock
-- Lua 5.1 has no read-only tables, so we reach the same behaviour with
-- proxies: every protected table is an empty table whose metatable reads
-- through to the real one and refuses writes. The wrappers below keep the
-- raw functions (rawset, setmetatable, next, rawget) from going around
-- the proxies.

local G, errtext, killed = ...

local rawset_, rawget_, next_, setmetatable_, type_, error_, tostring_ =
    rawset, rawget, next, setmetatable, type, error, tostring
local loadstring_, load_ = loadstring, load

-- proxy -> the real table it fronts
local real = setmetatable_({}, { __mode = 'k' })

local function readonly()
    error_("Attempt to modify a readonly table", 2)
end

-- What getmetatable() returns for a protected table: empty and itself
-- protected, so it leads nowhere.
local hidden = setmetatable_({}, { __newindex = readonly })
real[hidden] = hidden
setmetatable_(hidden, { __newindex = readonly, __metatable = hidden })

local function protect(t)
    local meta = { __index = t, __newindex = readonly, __metatable = hidden }
    local p = setmetatable_({}, meta)
    real[p] = t
    return p, meta
end

rawset = function(t, k, v)
    if real[t] then
        error_("Attempt to modify a readonly table", 0)
    end
    return rawset_(t, k, v)
end
rawget = function(t, k)
    return rawget_(real[t] or t, k)
end
next = function(t, k)
    return next_(real[t] or t, k)
end
pairs = function(t)
    return next, t, nil
end
setmetatable = function(t, m)
    if real[t] then
        error_("Attempt to modify a readonly table", 0)
    end
    return setmetatable_(t, m)
end

-- Binary chunks could forge bytecode; only source is loaded.
loadstring = function(s, name)
    if type_(s) == 'string' and s:byte(1) == 27 then
        return nil, "binary code loading is disabled"
    end
    return loadstring_(s, name)
end
load = function(f, name)
    local first = true
    local function reader()
        local piece = f()
        if first and type_(piece) == 'string' and piece ~= '' then
            first = false
            if piece:byte(1) == 27 then
                error_("binary code loading is disabled", 0)
            end
        end
        return piece
    end
    return load_(reader, name)
end

-- Redis 7 raises errors from redis.call as tables; pcall hands scripts the
-- text, as Redis 6 did.
local pcall_ = pcall
local function pcall_result(ok, ...)
    if not ok then
        local e = (...)
        -- A killed script must stop: pcall does not catch the kill.
        if killed() then
            error_(e, 0)
        end
        if type_(e) == 'table' then
            local text = e.err
            if type_(text) == 'string' or type_(text) == 'number' then
                return false, text
            end
        elseif type_(e) == 'userdata' then
            local text = errtext(e)
            if text then
                return false, text
            end
        end
        return false, ...
    end
    return true, ...
end
pcall = function(f, ...)
    return pcall_result(pcall_(f, ...))
end

local xpcall_ = xpcall
local function xpcall_result(ok, ...)
    if not ok and killed() then
        error_((...), 0)
    end
    return ok, ...
end
xpcall = function(f, handler)
    return xpcall_result(xpcall_(f, handler))
end

G.print, G.dofile, G.loadfile = nil, nil, nil

for _, name in ipairs({ 'string', 'math', 'table', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct', 'redis' }) do
    local lib = rawget_(G, name)
    if type_(lib) == 'table' then
        rawset_(G, name, protect(lib))
    end
end

local function missing(_, k)
    error_("Script attempted to access nonexistent global variable '" .. tostring_(k) .. "'", 2)
end
setmetatable_(G, { __index = missing })
-- PM.__index is G while scripts run; FUNCTION LOAD points it at the
-- library API for the time the library's code runs.
local P, PM = protect(G)
rawset_(G, '_G', P)

-- Runs `f` under the error handler (a library's body at FUNCTION LOAD;
-- scripts and functions start from Rust, see rawcall.rs).
local function invoke(f, handler)
    return xpcall_(f, handler)
end

return P, invoke, PM, missing, protect
