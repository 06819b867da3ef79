package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"

	nephapi "github.com/nephoran/o2ims/internal/httpapi/gen/nephoran"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/lcm"
)

// MaxPackageBytes bounds an uploaded CNF package body.
const MaxPackageBytes = 32 << 20

func (h *nephoranHandlers) ListCnfPackages(ctx context.Context, req nephapi.ListCnfPackagesRequestObject) (nephapi.ListCnfPackagesResponseObject, error) {
	p := req.Params
	page, err := h.lcm.ListPackages(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *nephoranHandlers) CreateCnfPackage(ctx context.Context, req nephapi.CreateCnfPackageRequestObject) (nephapi.CreateCnfPackageResponseObject, error) {
	var (
		in      lcm.PackageInput
		content []byte
	)
	switch {
	case req.JSONBody != nil:
		b, err := json.Marshal(req.JSONBody)
		if err != nil {
			return nil, paramError(err)
		}
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, paramError(err)
		}
		content = req.JSONBody.Content
	case req.MultipartBody != nil:
		var err error
		in, content, err = readPackageParts(req.MultipartBody)
		if err != nil {
			return nil, err
		}
	default:
		return nil, ims.Errorf(ims.EINVALID, "a multipart/form-data or JSON body is required")
	}
	pkg, err := h.lcm.CreatePackage(ctx, in, content)
	if err != nil {
		return nil, err
	}
	v, err := fromValue[nephapi.CnfPackage](pkg)
	if err != nil {
		return nil, err
	}
	loc := "/o2ims/v1/cnfPackages/" + pkg.PackageID
	return nephapi.CreateCnfPackage201JSONResponse{Body: v, Headers: nephapi.CreateCnfPackage201ResponseHeaders{Location: &loc}}, nil
}

// readPackageParts reads the metadata and content parts of an upload.
func readPackageParts(r *multipart.Reader) (lcm.PackageInput, []byte, error) {
	var (
		in          lcm.PackageInput
		content     []byte
		gotMetadata bool
	)
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return in, nil, bodyError("multipart body", err)
		}
		data, err := io.ReadAll(io.LimitReader(part, MaxPackageBytes+1))
		if err != nil {
			return in, nil, bodyError("part "+part.FormName(), err)
		}
		if len(data) > MaxPackageBytes {
			return in, nil, ims.Errorf(ims.EINVALID, "part %s: larger than %d bytes", part.FormName(), MaxPackageBytes)
		}
		switch part.FormName() {
		case "metadata":
			dec := json.NewDecoder(bytesReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				msg, ok := ims.JSONMessage(err)
				if !ok {
					msg = "not valid JSON"
				}
				return in, nil, ims.Errorf(ims.EINVALID, "metadata: %s", msg)
			}
			gotMetadata = true
		case "content":
			content = data
		default:
			return in, nil, ims.Errorf(ims.EINVALID, "unexpected part %q (expected metadata and content)", part.FormName())
		}
	}
	if !gotMetadata {
		return in, nil, ims.Errorf(ims.EINVALID, "the metadata part is missing")
	}
	if content == nil {
		return in, nil, ims.Errorf(ims.EINVALID, "the content part is missing")
	}
	return in, content, nil
}

func (h *nephoranHandlers) GetCnfPackage(ctx context.Context, req nephapi.GetCnfPackageRequestObject) (nephapi.GetCnfPackageResponseObject, error) {
	pkg, err := h.lcm.GetPackage(ctx, req.PackageId)
	if err != nil {
		return nil, err
	}
	p := req.Params
	return view[nephapi.CnfPackage](lcm.PackageSchema, pkg, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) DeleteCnfPackage(ctx context.Context, req nephapi.DeleteCnfPackageRequestObject) (nephapi.DeleteCnfPackageResponseObject, error) {
	if err := h.lcm.DeletePackage(ctx, req.PackageId); err != nil {
		return nil, err
	}
	return nephapi.DeleteCnfPackage204Response{}, nil
}

func (h *nephoranHandlers) ListCnfInstances(ctx context.Context, req nephapi.ListCnfInstancesRequestObject) (nephapi.ListCnfInstancesResponseObject, error) {
	p := req.Params
	page, err := h.lcm.ListInstances(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *nephoranHandlers) CreateCnfInstance(ctx context.Context, req nephapi.CreateCnfInstanceRequestObject) (nephapi.CreateCnfInstanceResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a body is required")
	}
	inst, err := h.lcm.CreateInstance(ctx, lcm.InstanceInput{
		VnfInstanceName: deref(req.Body.VnfInstanceName), VnfInstanceDescription: deref(req.Body.VnfInstanceDescription),
		VnfdID: req.Body.VnfdId, FlavourID: deref(req.Body.FlavourId),
	})
	if err != nil {
		return nil, err
	}
	v, err := fromValue[nephapi.CnfInstance](inst)
	if err != nil {
		return nil, err
	}
	loc := "/o2ims/v1/cnfInstances/" + inst.CnfInstanceID
	return nephapi.CreateCnfInstance201JSONResponse{Body: v, Headers: nephapi.CreateCnfInstance201ResponseHeaders{Location: &loc}}, nil
}

func (h *nephoranHandlers) GetCnfInstance(ctx context.Context, req nephapi.GetCnfInstanceRequestObject) (nephapi.GetCnfInstanceResponseObject, error) {
	inst, err := h.lcm.GetInstance(ctx, req.CnfInstanceId.String())
	if err != nil {
		return nil, err
	}
	inst = h.lcm.RefreshStatus(ctx, inst)
	p := req.Params
	return view[nephapi.CnfInstance](lcm.InstanceSchema, inst, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) DeleteCnfInstance(ctx context.Context, req nephapi.DeleteCnfInstanceRequestObject) (nephapi.DeleteCnfInstanceResponseObject, error) {
	if err := h.lcm.DeleteInstance(ctx, req.CnfInstanceId.String()); err != nil {
		return nil, err
	}
	return nephapi.DeleteCnfInstance204Response{}, nil
}

func accepted(op lcm.OpOcc) (nephapi.AcceptedJSONResponse, error) {
	v, err := fromValue[nephapi.LcmOpOcc](op)
	loc := "/o2ims/v1/lcmOpOccs/" + op.ID
	return nephapi.AcceptedJSONResponse{Body: v, Headers: nephapi.AcceptedResponseHeaders{Location: &loc}}, err
}

func (h *nephoranHandlers) InstantiateCnfInstance(ctx context.Context, req nephapi.InstantiateCnfInstanceRequestObject) (nephapi.InstantiateCnfInstanceResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a body is required")
	}
	in := lcm.InstantiateInput{FlavourID: req.Body.FlavourId, DeploymentManagerID: req.Body.DeploymentManagerId.String(), Namespace: deref(req.Body.Namespace)}
	if req.Body.ResourcePoolId != nil {
		in.ResourcePoolID = req.Body.ResourcePoolId.String()
	}
	if req.Body.AdditionalParams != nil {
		in.AdditionalParams = *req.Body.AdditionalParams
	}
	op, err := h.lcm.Instantiate(ctx, req.CnfInstanceId.String(), in)
	if err != nil {
		return nil, err
	}
	r, err := accepted(op)
	return nephapi.InstantiateCnfInstance202JSONResponse{AcceptedJSONResponse: r}, err
}

func (h *nephoranHandlers) ScaleCnfInstance(ctx context.Context, req nephapi.ScaleCnfInstanceRequestObject) (nephapi.ScaleCnfInstanceResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a body is required")
	}
	op, err := h.lcm.Scale(ctx, req.CnfInstanceId.String(), lcm.ScaleInput{Type: string(req.Body.Type), AspectID: req.Body.AspectId, NumberOfSteps: deref(req.Body.NumberOfSteps)})
	if err != nil {
		return nil, err
	}
	r, err := accepted(op)
	return nephapi.ScaleCnfInstance202JSONResponse{AcceptedJSONResponse: r}, err
}

func (h *nephoranHandlers) TerminateCnfInstance(ctx context.Context, req nephapi.TerminateCnfInstanceRequestObject) (nephapi.TerminateCnfInstanceResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a body is required")
	}
	op, err := h.lcm.Terminate(ctx, req.CnfInstanceId.String(), lcm.TerminateInput{TerminationType: string(req.Body.TerminationType), GracefulTerminationTimeout: req.Body.GracefulTerminationTimeout})
	if err != nil {
		return nil, err
	}
	r, err := accepted(op)
	return nephapi.TerminateCnfInstance202JSONResponse{AcceptedJSONResponse: r}, err
}

func (h *nephoranHandlers) ListLcmOpOccs(ctx context.Context, req nephapi.ListLcmOpOccsRequestObject) (nephapi.ListLcmOpOccsResponseObject, error) {
	p := req.Params
	page, err := h.lcm.ListOps(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *nephoranHandlers) GetLcmOpOcc(ctx context.Context, req nephapi.GetLcmOpOccRequestObject) (nephapi.GetLcmOpOccResponseObject, error) {
	op, err := h.lcm.GetOp(ctx, req.LcmOpOccId.String())
	if err != nil {
		return nil, err
	}
	p := req.Params
	return view[nephapi.LcmOpOcc](lcm.OpSchema, op, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

// bodyError keeps a size-limit error (413) and makes anything else a 400.
func bodyError(what string, err error) error {
	var tooLarge *http.MaxBytesError
	var ie *ims.Error
	if errors.As(err, &tooLarge) || errors.As(err, &ie) {
		return err
	}
	return ims.Errorf(ims.EINVALID, "%s: %v", what, err)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
