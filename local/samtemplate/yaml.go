package samtemplate

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// shortForms maps the YAML tags of the intrinsic functions this reader
// supports to their long form. Any other tag is refused.
var shortForms = map[string]string{
	"!Ref":       "Ref",
	"!Sub":       "Fn::Sub",
	"!GetAtt":    "Fn::GetAtt",
	"!Join":      "Fn::Join",
	"!Select":    "Fn::Select",
	"!Split":     "Fn::Split",
	"!If":        "Fn::If",
	"!Equals":    "Fn::Equals",
	"!Not":       "Fn::Not",
	"!And":       "Fn::And",
	"!Or":        "Fn::Or",
	"!Condition": "Condition",
}

// decodeYAML turns the template's text into plain values (map[string]any,
// []any, string, int, float64, bool, nil), with every short-form intrinsic
// (!Ref X) in its long form ({"Ref": "X"}). Anchors and aliases are refused:
// a template has no use for them, and they are how a small file expands
// into a huge one.
func decodeYAML(data []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("not a YAML document")
	}
	v, err := decodeNode(doc.Content[0], "")
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the template is not a mapping")
	}
	return m, nil
}

func decodeNode(n *yaml.Node, path string) (any, error) {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return nil, fmt.Errorf("%s (line %d): YAML anchors and aliases are not supported", where(path), n.Line)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Anchor != "" || k.Value == "<<" {
				return nil, fmt.Errorf("%s (line %d): keys must be plain strings", where(path), k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("%s (line %d): duplicate key", where(join(path, k.Value)), k.Line)
			}
			val, err := decodeNode(n.Content[i+1], join(path, k.Value))
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		v = m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			val, err := decodeNode(c, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			l = append(l, val)
		}
		v = l
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!!") {
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("%s (line %d): %w", where(path), n.Line, err)
			}
		} else {
			v = n.Value // a short-form intrinsic's argument
		}
	default:
		return nil, fmt.Errorf("%s (line %d): unexpected YAML node", where(path), n.Line)
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	name, ok := shortForms[n.Tag]
	if !ok {
		return nil, fmt.Errorf("%s (line %d): %s is not supported", where(path), n.Line, n.Tag)
	}
	if s, ok := v.(string); ok && name == "Fn::GetAtt" {
		resource, attribute, _ := strings.Cut(s, ".")
		v = []any{resource, attribute}
	}
	return map[string]any{name: v}, nil
}

// join appends a key to a dotted path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func where(path string) string {
	if path == "" {
		return "the template"
	}
	return path
}
