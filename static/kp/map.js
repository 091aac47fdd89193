/* 挂图作战: the city map, drawn by the vendored ECharts from the vendored boundaries (static/vendor/…).
 * Nothing loads from the internet. Every element `.kp-map[data-geo]` is drawn by its kind:
 *   .kp-map-city    the /map/ page: districts as a choropleth, projects as points from data-api (GeoJSON)
 *   .kp-map-point   a project's own point (data-lon, data-lat, data-name)
 *   .kp-map-picker  the admin's location picker: a click fills the inputs named in data-pick
 */
(function () {
  if (!window.echarts) return;
  var MAP = '长春';
  var font = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif';
  var MARKER = '#c0392b';  // a single project's point on its page and in the admin's picker
  var loaded = {};

  function loadGeo(url) {
    if (!loaded[url]) {
      loaded[url] = fetch(url, {credentials: 'same-origin'}).then(function (r) { return r.json(); })
        .then(function (json) { echarts.registerMap(MAP, json); return json; });
    }
    return loaded[url];
  }

  function esc(text) {
    return String(text == null ? '' : text).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }

  function wan(v) {
    var n = Number(v);
    return n >= 10000 ? (n / 10000).toFixed(2) + ' 亿元' : n.toFixed(2) + ' 万元';
  }

  function baseGeo(extra) {
    var geo = {map: MAP, roam: true, scaleLimit: {min: 0.8, max: 40}, label: {show: true, fontSize: 11, color: '#334e68'},
      itemStyle: {areaColor: '#e4e7eb', borderColor: '#8ea1b5'},
      emphasis: {label: {show: true}, itemStyle: {areaColor: '#d9e6f2'}}, select: {disabled: true}};
    for (var k in extra) geo[k] = extra[k];
    return geo;
  }

  function init(el) {
    var chart = echarts.init(el, null, {renderer: 'canvas'});
    window.addEventListener('resize', function () { chart.resize(); });
    window.addEventListener('beforeprint', function () { chart.resize(); });
    return chart;
  }

  // --- the city map ----------------------------------------------------------------------------------
  function city(el) {
    var figures = JSON.parse(document.getElementById(el.dataset.figures).textContent);
    var measure = figures.measure, districts = figures.districts;
    var lights = figures.lights;  // the palette of config/lights.py: {red: {label, colour}, …}
    function colour(light) { return (lights[light] || lights.none).colour; }
    var chart = init(el), current = null, zoomedAt = null;
    var scale = Math.max(0.6, Math.min(1, el.clientWidth / 900));  // smaller points on a phone
    el.kpChart = chart;
    var values = districts.map(function (d) { return Number(d[measure.key]) || 0; });
    var max = Math.max.apply(null, values.concat([1]));

    function tooltipDistrict(d) {
      if (!d) return '';
      return '<b>' + esc(d.name) + '</b>' + (d.parts.length ? '（含' + esc(d.parts.join('、')) + '）' : '') +
        '<br>在建项目 ' + d.building + ' 个（本年项目 ' + d.projects + ' 个）' +
        '<br>总投资 ' + wan(d.investment_wan) +
        '<br>开工率 ' + (d.start_rate_pct == null ? '—' : d.start_rate_pct + '%') + '（' + d.started_new + ' / ' + d.planned_new + '）' +
        '<br>红灯项目 ' + d.red + ' 个<br><span style="color:#888">点击查看项目清单</span>';
    }

    function pointsSeries(collection) {
      var aggregated = collection.aggregated;
      var data = collection.features.map(function (f) {
        var p = f.properties, c = f.geometry.coordinates;
        if (aggregated) {
          return {name: p.district, value: [c[0], c[1], p.count], props: p,
            symbolSize: Math.max(14, Math.min(48, 6 * Math.sqrt(p.count))),
            itemStyle: {color: colour(p.red ? 'red' : (p.yellow ? 'yellow' : 'green')), opacity: 0.8},
            label: {show: true, formatter: String(p.count), color: '#fff', fontWeight: 'bold'}};
        }
        var inv = Number(p.total_investment);
        return {name: p.name, value: [c[0], c[1], inv], props: p,
          symbolSize: scale * Math.max(4, Math.min(26, 1.8 * Math.sqrt(inv / 10000) + 3)),
          itemStyle: {color: colour(p.light), borderColor: '#fff', borderWidth: 0.6, opacity: 0.9}};
      });
      return {id: 'points', name: aggregated ? '项目（按属地汇总）' : '项目', type: 'scatter', coordinateSystem: 'geo',
        geoIndex: 0, data: data, z: 5, emphasis: {scale: 1.6},
        tooltip: {formatter: function (params) {
          var p = params.data.props;
          if (p.aggregated) {
            return '<b>' + esc(p.district) + '</b> ' + p.count + ' 个项目<br>总投资 ' + wan(p.total_investment) +
              '<br>红灯 ' + p.red + ' · 黄灯 ' + p.yellow + ' · 绿灯 ' + p.green + '<br><span style="color:#888">放大查看各项目；点击查看清单</span>';
          }
          return '<b>' + esc(p.name) + '</b><br>' + esc(p.code) + ' · ' + esc(p.district) +
            '<br>总投资 ' + wan(p.total_investment) + '<br>阶段 ' + esc(p.stage) +
            '<br>灯 <span style="color:' + colour(p.light) + '">●</span> ' + esc((lights[p.light] || lights.none).label);
        }}};
    }

    function fetchPoints(bbox) {
      var url = el.dataset.api + (bbox ? '&bbox=' + bbox.join(',') : '');
      return fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
        .then(function (r) { return r.json(); })
        .then(function (collection) {
          current = collection;
          chart.setOption({series: [choropleth(), pointsSeries(collection)]}, {replaceMerge: ['series']});
          var note = document.getElementById(el.dataset.note);
          if (note) note.textContent = collection.aggregated
            ? '视野内 ' + collection.total + ' 个项目，按属地汇总显示；放大地图查看各项目。'
            : '显示 ' + collection.total + ' 个项目的位置（圆点大小：总投资；颜色：红黄绿灯）。';
          el.dataset.state = collection.aggregated ? 'aggregated' : 'points';
        });
    }

    function choropleth() {
      return {id: 'districts', name: measure.label, type: 'map', geoIndex: 0,
        data: districts.map(function (d) { return {name: d.name, value: Number(d[measure.key]) || 0, figures: d}; }),
        tooltip: {formatter: function (params) { return tooltipDistrict(params.data && params.data.figures) || esc(params.name); }}};
    }

    function viewBbox() {
      var w = chart.getWidth(), h = chart.getHeight();
      var a = chart.convertFromPixel({geoIndex: 0}, [0, h]), b = chart.convertFromPixel({geoIndex: 0}, [w, 0]);
      return [a[0], a[1], b[0], b[1]].map(function (v) { return Math.round(v * 1e4) / 1e4; });
    }

    loadGeo(el.dataset.geo).then(function () {
      chart.setOption({
        textStyle: {fontFamily: font}, animation: false,
        title: {text: figures.title, subtext: '按' + measure.label + '着色；灰色：无数据或不在查看范围', left: 8, top: 4,
          textStyle: {fontSize: 15}, subtextStyle: {fontSize: 11}},
        tooltip: {trigger: 'item', confine: true},
        toolbox: {right: 8, top: el.clientWidth < 600 ? 46 : 4, feature: {restore: {title: '还原'},
          saveAsImage: {title: '导出图片', name: figures.filename, pixelRatio: 2, backgroundColor: '#fff'}}},
        visualMap: {type: 'continuous', min: 0, max: max, seriesIndex: 0, orient: 'horizontal', left: 'center', bottom: 4,
          itemWidth: 12, itemHeight: Math.min(160, el.clientWidth / 3), calculable: false,
          text: [measure.label + ' 高', '低'], inRange: {color: ['#c6dbef', '#6baed6', '#08519c']}, textStyle: {fontSize: 11}},
        geo: baseGeo({top: 60, bottom: 44, left: 8, right: 8}),
        series: [choropleth()]
      });
      fetchPoints(null);
      chart.on('click', function (params) {
        var data = params.data;
        if (!data) return;
        if (params.seriesType === 'scatter' && data.props) window.location.href = data.props.url;
        else if (params.seriesType === 'map' && data.figures) window.location.href = data.figures.url;
      });
      chart.on('georoam', function () {
        clearTimeout(zoomedAt);
        zoomedAt = setTimeout(function () {
          var zoom = chart.getOption().geo[0].zoom || 1;
          if (current && (current.aggregated || current.bbox) && zoom > 1.5) {
            fetchPoints(viewBbox()).then(function () { current.bbox = true; });
          }
        }, 250);
      });
      el.dataset.ready = '1';
    });
  }

  // --- a project's point ------------------------------------------------------------------------------
  function point(el) {
    var chart = init(el);
    var lon = Number(el.dataset.lon), lat = Number(el.dataset.lat);
    loadGeo(el.dataset.geo).then(function () {
      chart.setOption({
        textStyle: {fontFamily: font}, animation: false, tooltip: {trigger: 'item'},
        geo: baseGeo({roam: true, center: [lon, lat], zoom: 2.2, label: {show: true, fontSize: 10, color: '#52606d'}}),
        series: [{type: 'effectScatter', coordinateSystem: 'geo', data: [{name: el.dataset.name, value: [lon, lat]}],
          symbolSize: 12, itemStyle: {color: MARKER}, rippleEffect: {scale: 3}, z: 5,
          tooltip: {formatter: function (p) { return esc(p.name) + '<br>' + lon.toFixed(6) + ', ' + lat.toFixed(6); }}}]
      });
      el.dataset.ready = '1';
    });
  }

  // --- the admin's picker -----------------------------------------------------------------------------
  function picker(el) {
    var ids = el.dataset.pick.split(','), lonInput = document.getElementById(ids[0]), latInput = document.getElementById(ids[1]);
    if (!lonInput || !latInput) return;
    var chart = init(el);
    function marker() {
      var lon = parseFloat(lonInput.value), lat = parseFloat(latInput.value);
      return isNaN(lon) || isNaN(lat) ? [] : [{name: '项目位置', value: [lon, lat]}];
    }
    function draw() {
      chart.setOption({series: [{id: 'pick', type: 'scatter', coordinateSystem: 'geo', data: marker(), symbolSize: 12,
        itemStyle: {color: MARKER}, z: 5}]});
    }
    loadGeo(el.dataset.geo).then(function () {
      chart.setOption({textStyle: {fontFamily: font}, animation: false,
        geo: baseGeo({roam: true, label: {show: true, fontSize: 10}})});
      draw();
      chart.getZr().on('click', function (e) {
        var c = chart.convertFromPixel({geoIndex: 0}, [e.offsetX, e.offsetY]);
        if (!c) return;
        lonInput.value = c[0].toFixed(6);
        latInput.value = c[1].toFixed(6);
        draw();
      });
      lonInput.addEventListener('change', draw);
      latInput.addEventListener('change', draw);
      el.dataset.ready = '1';
    });
  }

  function start() {
    document.querySelectorAll('.kp-map[data-geo]').forEach(function (el) {
      if (el.classList.contains('kp-map-city')) city(el);
      else if (el.classList.contains('kp-map-point')) point(el);
      else if (el.classList.contains('kp-map-picker')) picker(el);
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
