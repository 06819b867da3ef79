package cnf

// InspectRelease is the release name (and kpt name setter) Inspect renders
// with, so Info.Workloads names contain it; a caller maps such a name to an
// instance's by replacing it with that instance's release name.
const InspectRelease = inspectRelease
