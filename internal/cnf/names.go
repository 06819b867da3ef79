package cnf

// InspectRelease is the Helm release name Inspect renders charts with, so
// Info.Workloads names derived from the release name contain it; a caller
// maps such a name to an instance's by replacing it with that instance's
// release name. Kpt packages are inspected without a release name: their
// workload names are those the Kptfile's own setter values give.
const InspectRelease = inspectRelease
