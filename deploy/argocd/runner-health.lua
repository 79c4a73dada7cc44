-- Argo CD health of a Hestia Runner (e2e.stakater.com/v1alpha1), read from the conditions the operator
-- writes (docs/verdicts.md has the table). Only Lua's base and table libraries are used, so it runs with
-- Argo CD's default of no standard libraries for argocd-cm scripts.
local hs = { status = "Progressing", message = "waiting for the Hestia operator to report on this Runner" }
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "waiting for the Hestia operator to observe generation " .. obj.metadata.generation
  return hs
end
local conditions = {}
for _, condition in ipairs(obj.status.conditions) do
  conditions[condition.type] = condition
end
local why = obj.status.message or ""
local stalled = conditions["Stalled"]
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.reason .. ": " .. (stalled.message or "")
  return hs
end
if obj.status.state == "Suspended" then
  hs.status = "Suspended"
  hs.message = why
  return hs
end
local ready = conditions["Ready"]
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = why
  return hs
end
hs.message = why
return hs
