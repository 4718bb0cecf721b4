package policies

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// fieldDecoder turns the attributes of one block into Go values. It
// collects every problem, each prefixed with the block it belongs to, and
// returns zero values for the fields that failed.
type fieldDecoder struct {
	prefix string // `rule "lab"` or "default"
	attrs  hcl.Attributes
	diags  hcl.Diagnostics
}

func (d *fieldDecoder) errorf(rng hcl.Range, format string, args ...any) {
	d.diags = append(d.diags, errorAt(rng, d.prefix+": "+format, args...))
}

// value evaluates the attribute called name. It returns a nil attribute
// when the attribute is absent or invalid, and reports why it is invalid.
func (d *fieldDecoder) value(name string) (cty.Value, *hcl.Attribute) {
	attr, ok := d.attrs[name]
	if !ok {
		return cty.NilVal, nil
	}
	v, diags := attr.Expr.Value(nil)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, nil
	}
	if v.IsNull() {
		d.errorf(attr.NameRange, "%s is null; remove it to leave it unset", name)
		return cty.NilVal, nil
	}
	if !v.IsWhollyKnown() {
		d.errorf(attr.NameRange, "%s must be a constant", name)
		return cty.NilVal, nil
	}
	return v, attr
}

// string returns the attribute as a string. Numbers and bools convert.
func (d *fieldDecoder) string(name string) (string, *hcl.Attribute) {
	v, attr := d.value(name)
	if attr == nil {
		return "", nil
	}
	s, ok := toString(v)
	if !ok {
		d.errorf(attr.NameRange, "%s must be a string, not %s", name, v.Type().FriendlyName())
		return "", nil
	}
	return s, attr
}

// strings returns the attribute as a list of strings. A single string is
// a list of one.
func (d *fieldDecoder) strings(name string) ([]string, *hcl.Attribute) {
	v, attr := d.value(name)
	if attr == nil {
		return nil, nil
	}
	if s, ok := toString(v); ok && v.Type().IsPrimitiveType() {
		return []string{s}, attr
	}
	ty := v.Type()
	if !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
		d.errorf(attr.NameRange, "%s must be a string or a list of strings, not %s",
			name, ty.FriendlyName())
		return nil, nil
	}
	list := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, elem := it.Element()
		s, ok := toString(elem)
		if !ok || elem.IsNull() {
			d.errorf(attr.NameRange, "%s must be a list of strings, and element %d is %s",
				name, len(list)+1, elem.Type().FriendlyName())
			return nil, nil
		}
		list = append(list, s)
	}
	if len(list) == 0 {
		d.errorf(attr.NameRange, "%s is an empty list, which matches nothing; "+
			"remove the attribute to match everything", name)
		return nil, nil
	}
	return list, attr
}

func toString(v cty.Value) (string, bool) {
	if !v.Type().IsPrimitiveType() || v.IsNull() {
		return "", false
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", false
	}
	return s.AsString(), true
}

// bool returns the attribute as a *bool, nil when it is absent.
func (d *fieldDecoder) bool(name string) (*bool, *hcl.Attribute) {
	v, attr := d.value(name)
	if attr == nil {
		return nil, nil
	}
	b, err := convert.Convert(v, cty.Bool)
	if err != nil || b.IsNull() {
		d.errorf(attr.NameRange, "%s must be true or false, not %s", name,
			v.Type().FriendlyName())
		return nil, nil
	}
	t := b.True()
	return &t, attr
}

// integer returns the attribute as a whole number in [lo, hi].
func (d *fieldDecoder) integer(name string, lo, hi int64) (int64, *hcl.Attribute) {
	v, attr := d.value(name)
	if attr == nil {
		return 0, nil
	}
	n, ok := toInteger(v)
	if !ok {
		d.errorf(attr.NameRange, "%s must be a whole number, not %s", name, describe(v))
		return 0, nil
	}
	if n < lo || n > hi {
		d.errorf(attr.NameRange, "%s %d is out of range %d-%d", name, n, lo, hi)
		return 0, nil
	}
	return n, attr
}

// toInteger converts numbers and strings of digits to an int64.
func toInteger(v cty.Value) (int64, bool) {
	num, err := convert.Convert(v, cty.Number)
	if err != nil || num.IsNull() {
		return 0, false
	}
	f := num.AsBigFloat()
	if !f.IsInt() {
		return 0, false
	}
	n, acc := f.Int64()
	return n, acc == big.Exact
}

// describe returns v for an error message: strings quoted, numbers as
// written, and other values by their type.
func describe(v cty.Value) string {
	switch {
	case v.Type() == cty.String:
		return fmt.Sprintf("%q", v.AsString())
	case v.Type() == cty.Number:
		return v.AsBigFloat().Text('g', 20)
	}
	return v.Type().FriendlyName()
}

// unexpected reports each attribute of names that the block contains,
// for settings that only some blocks take.
func (d *fieldDecoder) unexpected(names []string, why string) {
	for _, name := range names {
		if attr, ok := d.attrs[name]; ok {
			d.errorf(attr.NameRange, "%s %s", name, why)
		}
	}
}
